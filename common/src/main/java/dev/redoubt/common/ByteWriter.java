package dev.redoubt.common;

import java.util.Arrays;

/** A growable little-endian byte buffer with varints: the encoder matching {@link ByteReader}. Not thread-safe. */
public final class ByteWriter {
    private byte[] bytes;
    private int length;

    public ByteWriter(int initialCapacity) {
        bytes = new byte[Math.max(16, initialCapacity)];
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    public ByteWriter u8(int v) {
        ensure(1);
        bytes[length++] = (byte) v;
        return this;
    }

    public ByteWriter u32(int v) {
        ensure(4);
        bytes[length] = (byte) v;
        bytes[length + 1] = (byte) (v >>> 8);
        bytes[length + 2] = (byte) (v >>> 16);
        bytes[length + 3] = (byte) (v >>> 24);
        length += 4;
        return this;
    }

    public ByteWriter u64(long v) {
        return u32((int) v).u32((int) (v >>> 32));
    }

    public ByteWriter varint64(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            bytes[length++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        bytes[length++] = (byte) v;
        return this;
    }

    public ByteWriter varint32(int v) {
        return varint64(v & 0xFFFFFFFFL);
    }

    public ByteWriter lengthPrefixed(byte[] b) {
        varint32(b.length);
        return bytes(b, 0, b.length);
    }

    /** The remaining bytes of {@code b}, length first; {@code b}'s position is left where it was. */
    public ByteWriter lengthPrefixed(java.nio.ByteBuffer b) {
        int n = b.remaining();
        varint32(n);
        ensure(n);
        b.get(b.position(), bytes, length, n);
        length += n;
        return this;
    }

    public ByteWriter bytes(byte[] b, int offset, int count) {
        ensure(count);
        System.arraycopy(b, offset, bytes, length, count);
        length += count;
        return this;
    }

    /** Overwrites a u32 already written at {@code at}. */
    public void putU32(int at, int v) {
        bytes[at] = (byte) v;
        bytes[at + 1] = (byte) (v >>> 8);
        bytes[at + 2] = (byte) (v >>> 16);
        bytes[at + 3] = (byte) (v >>> 24);
    }

    public int length() {
        return length;
    }

    /** The backing array (valid up to {@link #length()}); no copy. */
    public byte[] array() {
        return bytes;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, length);
    }

    public void reset() {
        length = 0;
    }
}
