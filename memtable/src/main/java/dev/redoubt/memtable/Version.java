package dev.redoubt.memtable;

import dev.redoubt.common.EntryKind;
import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One version of a key: the on-heap index node of the memtable's skip list. The key and value bytes are not
 * here; they lie back to back in an arena chunk, {@code [offset, offset + keyLength)} then
 * {@code [.. , .. + valueLength)}. A <em>probe</em> (used only to search) is a version whose buffer wraps a
 * heap array; comparisons do not care which.
 *
 * <p>{@link #prefix} holds the key's first 8 bytes (big-endian, zero-padded): most comparisons in the skip list
 * differ there and are settled without reading the arena, which would cost dependent cache misses (node, version,
 * buffer, chunk) on every step of an insert or a lookup.
 *
 * <p>Size on a 64-bit JVM with compressed oops (heaps under 32 GiB): 12-byte header + buffer reference (4) +
 * offset, keyLength, valueLength (3 x 4) + sequence (8) + prefix (8) + kind reference (4) = 48 bytes. See
 * {@link Memtable#INDEX_BYTES_PER_ENTRY} for the whole per-entry figure.
 *
 * <p>Thread-safety: immutable (every field final, so safely published through the skip list). The arena bytes
 * it points at are written before the version is constructed and never again while the memtable is open.
 */
final class Version {
    final UnsafeBuffer buffer;
    final int offset;
    final int keyLength;
    final int valueLength;
    final long sequence;
    /** The key's first 8 bytes, big-endian, zero-padded: compared unsigned, it orders like those bytes. */
    final long prefix;
    /** Null only in a probe. */
    final EntryKind kind;

    Version(UnsafeBuffer buffer, int offset, int keyLength, int valueLength, long sequence, EntryKind kind) {
        this.buffer = buffer;
        this.offset = offset;
        this.keyLength = keyLength;
        this.valueLength = valueLength;
        this.sequence = sequence;
        this.kind = kind;
        this.prefix = prefixOf(buffer, offset, keyLength);
    }

    private static long prefixOf(DirectBuffer b, int offset, int length) {
        if (length >= Long.BYTES) {
            return b.getLong(offset, ByteOrder.BIG_ENDIAN);
        }
        long p = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            p = p << 8 | (i < length ? b.getByte(offset + i) & 0xFF : 0);
        }
        return p;
    }

    /** A search key: the position of ({@code key}, {@code sequence}) in internal order. */
    static Version probe(byte[] key, long sequence) {
        UnsafeBuffer buffer = key.length == 0 ? Arena.EMPTY : new UnsafeBuffer(key);
        return new Version(buffer, 0, key.length, 0, sequence, null);
    }

    byte[] key() {
        byte[] key = new byte[keyLength];
        if (keyLength > 0) {
            buffer.getBytes(offset, key);
        }
        return key;
    }

    byte[] value() {
        if (valueLength == 0) {
            return Memtable.EMPTY_BYTES;
        }
        byte[] value = new byte[valueLength];
        buffer.getBytes(offset + keyLength, value);
        return value;
    }

    boolean sameKey(Version other) {
        return keyLength == other.keyLength
                && compareKeys(buffer, offset, keyLength, other.buffer, other.offset, other.keyLength) == 0;
    }

    /** {@link dev.redoubt.common.KeyOrder} internal order: key ascending as unsigned bytes, then sequence descending. */
    static int compare(Version a, Version b) {
        if (a.prefix != b.prefix) {
            // A shorter key is zero-padded: where prefixes differ, that order is the keys' order (a proper prefix
            // pads with zeros, which are <= the longer key's bytes; equal prefixes fall through).
            return Long.compareUnsigned(a.prefix, b.prefix);
        }
        int c = compareKeys(a.buffer, a.offset, a.keyLength, b.buffer, b.offset, b.keyLength);
        return c != 0 ? c : Long.compare(b.sequence, a.sequence);
    }

    /**
     * Unsigned lexicographic comparison, 8 bytes at a time: a big-endian long compared unsigned orders exactly as
     * its 8 bytes compared one by one as unsigned bytes.
     */
    static int compareKeys(DirectBuffer a, int aOffset, int aLength, DirectBuffer b, int bOffset, int bLength) {
        int common = Math.min(aLength, bLength);
        int i = 0;
        for (; i + Long.BYTES <= common; i += Long.BYTES) {
            long x = a.getLong(aOffset + i, ByteOrder.BIG_ENDIAN);
            long y = b.getLong(bOffset + i, ByteOrder.BIG_ENDIAN);
            if (x != y) {
                return Long.compareUnsigned(x, y);
            }
        }
        for (; i < common; i++) {
            int x = a.getByte(aOffset + i) & 0xFF;
            int y = b.getByte(bOffset + i) & 0xFF;
            if (x != y) {
                return x - y;
            }
        }
        return Integer.compare(aLength, bLength);
    }
}
