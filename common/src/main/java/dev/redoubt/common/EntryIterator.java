package dev.redoubt.common;

/**
 * A cursor over versioned entries in {@link KeyOrder} internal order: key ascending, then sequence descending.
 * Memtables, SSTables and merges of them all expose this, so the engine composes them without knowing their
 * internals. Methods return views valid until the next move; callers copy what they keep.
 *
 * <p>Not thread-safe: one thread uses an iterator at a time. Closing releases what it pins (blocks, a
 * memtable reference).
 */
public interface EntryIterator extends AutoCloseable {

    /** Positions at the first entry. */
    void seekToFirst();

    /** Positions at the first entry whose key is {@code >= key} (its newest version first). */
    void seek(byte[] key);

    /** Whether the iterator is positioned at an entry. */
    boolean valid();

    /** Moves to the next entry. REQUIRES {@link #valid()}. */
    void next();

    /** The user key. REQUIRES {@link #valid()}. */
    byte[] key();

    /** The entry's sequence number. REQUIRES {@link #valid()}. */
    long sequence();

    EntryKind kind();

    /** The value of a {@link EntryKind#PUT}; an empty array for a {@link EntryKind#DELETE}. */
    byte[] value();

    /** The value's length, without making it an array. REQUIRES {@link #valid()}. */
    default int valueLength() {
        return value().length;
    }

    /**
     * Copies the value into {@code dst} from {@code at} (room for {@link #valueLength()} bytes), without making
     * an array of it: what a compaction does with every value it rewrites. REQUIRES {@link #valid()}.
     */
    default void copyValue(byte[] dst, int at) {
        byte[] v = value();
        System.arraycopy(v, 0, dst, at, v.length);
    }

    @Override
    void close();
}
