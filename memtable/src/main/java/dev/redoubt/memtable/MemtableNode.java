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

    private static final long BYTE_ARRAY_BASE = BufferUtil.ARRAY_BASE_OFFSET;

    private MemtableNode() {
    }

    /** The bytes a node of {@code height} takes in the arena, padding included. */
    static int size(int height, int keyLength, int valueLength) {
        long raw = NEXT + 8L * height + keyLength + valueLength;
        return (int) ((raw + 7) & ~7L);
    }

    /** Fills a node at {@code node} (of {@link #size} bytes, 8-aligned) with its fields, key and value; no links. */
    static void write(long node, int height, long sequence, EntryKind kind, byte[] key, long prefix, byte[] value) {
        UnsafeApi.putLong(node + SEQUENCE, sequence);
        UnsafeApi.putInt(node + KEY_LENGTH, key.length);
        UnsafeApi.putInt(node + VALUE_LENGTH, value.length);
        UnsafeApi.putLong(node + KIND, 0); // bytes 16..23: kind, height, zeros
        UnsafeApi.putByte(node + KIND, kind == EntryKind.DELETE ? KIND_DELETE : KIND_PUT);
        UnsafeApi.putByte(node + HEIGHT, (byte) height);
        UnsafeApi.putLong(node + PREFIX, prefix);
        for (int level = 0; level < height; level++) {
            UnsafeApi.putLong(node + NEXT + 8L * level, 0);
        }
        long keyAt = keyAddress(node, height);
        UnsafeApi.copyMemory(key, BYTE_ARRAY_BASE, null, keyAt, key.length);
        UnsafeApi.copyMemory(value, BYTE_ARRAY_BASE, null, keyAt + key.length, value.length);
        long end = keyAt + key.length + value.length;
        long padded = node + size(height, key.length, value.length);
        for (long a = end; a < padded; a++) {
            UnsafeApi.putByte(a, (byte) 0);
        }
    }

    /** Makes {@code node} a head: height {@link #MAX_HEIGHT}, empty key, every link 0. */
    static void writeHead(long node) {
        write(node, MAX_HEIGHT, Long.MAX_VALUE, EntryKind.PUT, Memtable.EMPTY_BYTES, 0, Memtable.EMPTY_BYTES);
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

    /** The first 8 bytes of {@code key}, big-endian, zero-padded. */
    static long prefixOf(byte[] key) {
        if (key.length >= Long.BYTES) {
            return UnsafeApi.getLongUnaligned(key, BYTE_ARRAY_BASE, true);
        }
        long p = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            p = p << 8 | (i < key.length ? key[i] & 0xFF : 0);
        }
        return p;
    }

    /**
     * Where {@code node} stands relative to the position ({@code key}, {@code sequence}) in internal order:
     * negative when the node comes first, 0 at that very key and sequence, positive after.
     */
    static int compareTo(long node, byte[] key, long keyPrefix, long sequence) {
        long prefix = UnsafeApi.getLong(node + PREFIX);
        if (prefix != keyPrefix) {
            // A shorter key is zero-padded: where prefixes differ, that order is the keys' order.
            return Long.compareUnsigned(prefix, keyPrefix);
        }
        int c = compareKey(node, key);
        // Sequence descending: the node comes first when its sequence is larger.
        return c != 0 ? c : Long.compare(sequence, sequence(node));
    }

    /** Whether {@code node}'s key is {@code key}. */
    static boolean hasKey(long node, byte[] key) {
        return keyLength(node) == key.length && compareKey(node, key) == 0;
    }

    /**
     * The node's key against {@code key}, unsigned lexicographic, 8 bytes at a time: a big-endian long compared
     * unsigned orders exactly as its 8 bytes compared one by one as unsigned bytes.
     */
    private static int compareKey(long node, byte[] key) {
        int length = keyLength(node);
        long at = keyAddress(node, height(node));
        int common = Math.min(length, key.length);
        int i = 0;
        for (; i + Long.BYTES <= common; i += Long.BYTES) {
            long x = UnsafeApi.getLongUnaligned(null, at + i, true);
            long y = UnsafeApi.getLongUnaligned(key, BYTE_ARRAY_BASE + i, true);
            if (x != y) {
                return Long.compareUnsigned(x, y);
            }
        }
        for (; i < common; i++) {
            int x = UnsafeApi.getByte(at + i) & 0xFF;
            int y = key[i] & 0xFF;
            if (x != y) {
                return x - y;
            }
        }
        return Integer.compare(length, key.length);
    }
}
