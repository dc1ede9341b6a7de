package dev.redoubt.common;

/**
 * Bounds-checked reading of a byte range that came from disk or the network. Every read checks that the bytes
 * exist; every length is checked against a caller's bound before anything is allocated. A violation throws
 * {@link StorageException} with {@link ErrorCode#CORRUPTION} naming {@code what} and the offset.
 *
 * <p>This class is not thread-safe.
 */
public final class ByteReader {
    private final byte[] bytes;
    private final int end;
    private final String what;
    private int position;

    public ByteReader(byte[] bytes, String what) {
        this(bytes, 0, bytes.length, what);
    }

    public ByteReader(byte[] bytes, int offset, int length, String what) {
        this.bytes = bytes;
        this.position = offset;
        this.end = offset + length;
        this.what = what;
    }

    public boolean hasRemaining() {
        return position < end;
    }

    public int remaining() {
        return end - position;
    }

    public int position() {
        return position;
    }

    private void need(int n) {
        if (n < 0 || n > end - position) {
            throw corrupt("needs " + n + " more bytes, " + (end - position) + " left");
        }
    }

    public StorageException corrupt(String problem) {
        return new StorageException(ErrorCode.CORRUPTION, what + ": " + problem + " at byte " + position);
    }

    public int u8() {
        need(1);
        return bytes[position++] & 0xFF;
    }

    public int u32() {
        need(4);
        int v = (bytes[position] & 0xFF) | (bytes[position + 1] & 0xFF) << 8 | (bytes[position + 2] & 0xFF) << 16
                | (bytes[position + 3] & 0xFF) << 24;
        position += 4;
        return v;
    }

    public long u64() {
        long lo = u32() & 0xFFFFFFFFL;
        long hi = u32() & 0xFFFFFFFFL;
        return lo | hi << 32;
    }

    /** An unsigned LEB128 varint of at most 32 bits. */
    public int varint32() {
        long v = varint64();
        if (v > 0xFFFFFFFFL) {
            throw corrupt("varint32 out of range: " + v);
        }
        return (int) v;
    }

    /** An unsigned LEB128 varint of at most 64 bits. */
    public long varint64() {
        long result = 0;
        for (int shift = 0; shift <= 63; shift += 7) {
            int b = u8();
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw corrupt("varint longer than 10 bytes");
    }

    /** A length-prefixed byte string of at most {@code maxLength} bytes. */
    public byte[] lengthPrefixed(int maxLength) {
        int length = varint32();
        if (length < 0 || length > maxLength) {
            throw corrupt("length " + (length & 0xFFFFFFFFL) + " exceeds the bound " + maxLength);
        }
        return bytes(length);
    }

    public byte[] bytes(int length) {
        need(length);
        byte[] out = java.util.Arrays.copyOfRange(bytes, position, position + length);
        position += length;
        return out;
    }
}
