package dev.redoubt.sstable;

import java.util.Arrays;

/**
 * A growable byte array that blocks are built in: raw bytes, varints, little-endian fixed-width integers.
 * The array is reused across blocks ({@link #clear()}), so a writer allocates while its blocks grow, not per
 * entry.
 *
 * <p>Not thread-safe: owned by one writer.
 */
final class ByteSink {
    private byte[] bytes;
    private int length;

    ByteSink(int initialCapacity) {
        bytes = new byte[Math.max(16, initialCapacity)];
    }

    /** The backing array; valid bytes are {@code [0, length())}. Changes when the sink grows. */
    byte[] array() {
        return bytes;
    }

    int length() {
        return length;
    }

    void clear() {
        length = 0;
    }

    void putByte(byte b) {
        ensure(1);
        bytes[length++] = b;
    }

    void putBytes(byte[] src, int from, int count) {
        ensure(count);
        System.arraycopy(src, from, bytes, length, count);
        length += count;
    }

    void putBytes(org.agrona.DirectBuffer src, int from, int count) {
        ensure(count);
        src.getBytes(from, bytes, length, count);
        length += count;
    }

    void putIntLe(int value) {
        ensure(Integer.BYTES);
        SstDescriptor.putInt(bytes, length, value);
        length += Integer.BYTES;
    }

    void putLongLe(long value) {
        ensure(Long.BYTES);
        SstDescriptor.putLong(bytes, length, value);
        length += Long.BYTES;
    }

    /** Unsigned LEB128 of a non-negative int. */
    void putVarint32(int value) {
        assert value >= 0 : value;
        ensure(SstDescriptor.MAX_VARINT32_BYTES);
        int v = value;
        while ((v & ~0x7F) != 0) {
            bytes[length++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        bytes[length++] = (byte) v;
    }

    /** Unsigned LEB128 of a non-negative long. */
    void putVarint64(long value) {
        assert value >= 0 : value;
        ensure(SstDescriptor.MAX_VARINT64_BYTES);
        long v = value;
        while ((v & ~0x7FL) != 0) {
            bytes[length++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        bytes[length++] = (byte) v;
    }

    /** Makes room for {@code count} more bytes, at least doubling so that appends are amortized O(1). */
    private void ensure(int count) {
        long needed = (long) length + count;
        if (needed > bytes.length) {
            if (needed > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("a block cannot exceed 2 GiB; got " + needed + " bytes");
            }
            bytes = Arrays.copyOf(bytes, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, 2L * bytes.length)));
        }
    }
}
