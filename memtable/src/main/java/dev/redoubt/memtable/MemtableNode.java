package dev.redoubt.memtable;

import dev.redoubt.common.EntryKind;
import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;

/**
 * One node of the memtable's skip list, in the off-heap arena: one version of one key, its skip-list links and
 * its key and value bytes together, so that neither the index nor the data is a Java object. A node is named by
 * its absolute address ({@code long}); 0 is "no node". Every method here is static and reads or writes at an
 * address the caller got from the arena or from a link.
 *
 * <h2>Layout (native byte order, the node 8-byte aligned)</h2>
 * <pre>
 *   offset  size          field
 *   0       8             sequence     the batch LSN + op index; >= 0
 *   8       4             keyLength    0..Limits.MAX_KEY_BYTES
 *   12      4             valueLength  0..Limits.MAX_VALUE_BYTES; 0 for a DELETE
 *   16      1             kind         0 PUT, 1 DELETE
 *   17      1             height       1..MAX_HEIGHT: the levels this node is linked at
 *   18      6             (zero)
 *   24      8             prefix       the key's first 8 bytes, big-endian, zero-padded (compared unsigned it
 *                                      orders like those bytes, so most comparisons end here)
 *   32      8 x height    next[level]  address of the next node at that level, 0 at the end
 *   32+8h   keyLength     key
 *   ...     valueLength   value
 *           0..7          (zero) up to a multiple of 8, so the next node is aligned
 * </pre>
 * The list's head is a node of height {@link #MAX_HEIGHT} with an empty key, never compared.
 *
 * <h2>Publication (one writer, any number of readers; LevelDB's skip-list protocol)</h2>
 * The writer fills a node with plain stores (fields, key, value, its own links), then links it in from the
 * bottom level up, each time with a release store into the predecessor's link ({@link #linkNext}); readers load
 * links with acquire loads ({@link #next}). A reader that reaches a node through a link therefore sees every
 * byte of it; a node is never modified after it is linked, and never unlinked.
 *
 * <h2>Order</h2>
 * {@link dev.redoubt.common.KeyOrder} internal order: key ascending as unsigned bytes, then sequence descending.
 */
final class MemtableNode {
    static final int MAX_HEIGHT = 12;

    static final int SEQUENCE = 0;
    static final int KEY_LENGTH = 8;
    static final int VALUE_LENGTH = 12;
    static final int KIND = 16;
    static final int HEIGHT = 17;
    static final int PREFIX = 24;
    static final int NEXT = 32;

    static final byte KIND_PUT = 0;
    static final byte KIND_DELETE = 1;

    /** Where a {@code byte[]}'s first element is, for {@code Unsafe}'s (base, offset) addressing. */
    static final long BYTE_ARRAY_BASE = BufferUtil.ARRAY_BASE_OFFSET;

    private MemtableNode() {
    }

    /** The bytes a node of {@code height} takes in the arena, padding included. */
    static int size(int height, int keyLength, int valueLength) {
        long raw = NEXT + 8L * height + keyLength + valueLength;
        return (int) ((raw + 7) & ~7L);
    }

    /**
     * Fills a node at {@code node} (of {@link #size} bytes, 8-aligned) with its fields, key and value; no links.
     * Key and value are read at ({@code base}, {@code address}) as {@code Unsafe} addresses them: a {@code byte[]}
     * and {@link #BYTE_ARRAY_BASE} plus an index, or null and an absolute address.
     */
    static void write(long node, int height, long sequence, EntryKind kind, Object keyBase, long keyAddress,
                      int keyLength, long prefix, Object valueBase, long valueAddress, int valueLength) {
        UnsafeApi.putLong(node + SEQUENCE, sequence);
        UnsafeApi.putInt(node + KEY_LENGTH, keyLength);
        UnsafeApi.putInt(node + VALUE_LENGTH, valueLength);
        UnsafeApi.putLong(node + KIND, 0); // bytes 16..23: kind, height, zeros
        UnsafeApi.putByte(node + KIND, kind == EntryKind.DELETE ? KIND_DELETE : KIND_PUT);
        UnsafeApi.putByte(node + HEIGHT, (byte) height);
        UnsafeApi.putLong(node + PREFIX, prefix);
        for (int level = 0; level < height; level++) {
            UnsafeApi.putLong(node + NEXT + 8L * level, 0);
        }
        long keyAt = keyAddress(node, height);
        UnsafeApi.copyMemory(keyBase, keyAddress, null, keyAt, keyLength);
        UnsafeApi.copyMemory(valueBase, valueAddress, null, keyAt + keyLength, valueLength);
        long end = keyAt + keyLength + valueLength;
        long padded = node + size(height, keyLength, valueLength);
        for (long a = end; a < padded; a++) {
            UnsafeApi.putByte(a, (byte) 0);
        }
    }

    /** Makes {@code node} a head: height {@link #MAX_HEIGHT}, empty key, every link 0. */
    static void writeHead(long node) {
        write(node, MAX_HEIGHT, Long.MAX_VALUE, EntryKind.PUT, null, 0, 0, 0, null, 0, 0);
    }

    static long sequence(long node) {
        return UnsafeApi.getLong(node + SEQUENCE);
    }

    static int keyLength(long node) {
        return UnsafeApi.getInt(node + KEY_LENGTH);
    }

    static int valueLength(long node) {
        return UnsafeApi.getInt(node + VALUE_LENGTH);
    }

    static EntryKind kind(long node) {
        return UnsafeApi.getByte(node + KIND) == KIND_DELETE ? EntryKind.DELETE : EntryKind.PUT;
    }

    static int height(long node) {
        return UnsafeApi.getByte(node + HEIGHT);
    }

    /** The next node at {@code level} (acquire: its bytes are visible), or 0. */
    static long next(long node, int level) {
        return UnsafeApi.getLongAcquire(null, node + NEXT + 8L * level);
    }

    /** Sets a link of a node nobody can reach yet (a plain store). */
    static void setNextUnpublished(long node, int level, long next) {
        UnsafeApi.putLong(node + NEXT + 8L * level, next);
    }

    /** Links {@code next} after {@code node} at {@code level} (release: {@code next}'s bytes are visible first). */
    static void linkNext(long node, int level, long next) {
        UnsafeApi.putLongRelease(null, node + NEXT + 8L * level, next);
    }

    static long keyAddress(long node, int height) {
        return node + NEXT + 8L * height;
    }

    static byte[] key(long node) {
        int length = keyLength(node);
        if (length == 0) {
            return Memtable.EMPTY_BYTES;
        }
        byte[] key = new byte[length];
        UnsafeApi.copyMemory(null, keyAddress(node, height(node)), key, BYTE_ARRAY_BASE, length);
        return key;
    }

    static byte[] value(long node) {
        int length = valueLength(node);
        if (length == 0) {
            return Memtable.EMPTY_BYTES;
        }
        byte[] value = new byte[length];
        UnsafeApi.copyMemory(null, keyAddress(node, height(node)) + keyLength(node), value, BYTE_ARRAY_BASE, length);
        return value;
    }

    /** The first 8 bytes of the key at ({@code base}, {@code address}), big-endian, zero-padded. */
    static long prefixOf(Object base, long address, int length) {
        if (length >= Long.BYTES) {
            return UnsafeApi.getLongUnaligned(base, address, true);
        }
        long p = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            p = p << 8 | (i < length ? UnsafeApi.getByte(base, address + i) & 0xFF : 0);
        }
        return p;
    }

    /**
     * Where {@code node} stands relative to the position (the key at ({@code base}, {@code address}) of
     * {@code length} bytes, {@code sequence}) in internal order: negative when the node comes first, 0 at that
     * very key and sequence, positive after. {@code prefix} is {@link #prefixOf} that key.
     */
    static int compareTo(long node, Object base, long address, int length, long prefix, long sequence) {
        long nodePrefix = UnsafeApi.getLong(node + PREFIX);
        if (nodePrefix != prefix) {
            // A shorter key is zero-padded: where prefixes differ, that order is the keys' order.
            return Long.compareUnsigned(nodePrefix, prefix);
        }
        int c = compareKey(node, base, address, length);
        // Sequence descending: the node comes first when its sequence is larger.
        return c != 0 ? c : Long.compare(sequence, sequence(node));
    }

    /** Whether {@code node}'s key is the {@code length} bytes at ({@code base}, {@code address}). */
    static boolean hasKey(long node, Object base, long address, int length) {
        return keyLength(node) == length && compareKey(node, base, address, length) == 0;
    }

    /**
     * The node's key against the given one, unsigned lexicographic, 8 bytes at a time: a big-endian long compared
     * unsigned orders exactly as its 8 bytes compared one by one as unsigned bytes.
     */
    private static int compareKey(long node, Object base, long address, int length) {
        int nodeLength = keyLength(node);
        long at = keyAddress(node, height(node));
        int common = Math.min(nodeLength, length);
        int i = 0;
        for (; i + Long.BYTES <= common; i += Long.BYTES) {
            long x = UnsafeApi.getLongUnaligned(null, at + i, true);
            long y = UnsafeApi.getLongUnaligned(base, address + i, true);
            if (x != y) {
                return Long.compareUnsigned(x, y);
            }
        }
        for (; i < common; i++) {
            int x = UnsafeApi.getByte(at + i) & 0xFF;
            int y = UnsafeApi.getByte(base, address + i) & 0xFF;
            if (x != y) {
                return x - y;
            }
        }
        return Integer.compare(nodeLength, length);
    }
}
