package dev.redoubt.memtable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import java.util.Objects;

/**
 * An {@link EntryIterator} over one memtable at a snapshot sequence: the versions with sequence {@code <=}
 * snapshot, in internal order. It walks the skip list's bottom level, following each node's link with an acquire
 * load: it sees every version linked before it reached that point and may or may not see versions added later
 * (the memtable never removes one), and never a torn one.
 *
 * <p>The key and value arrays handed out are copies out of the arena, made once per position on first
 * request; callers may keep them.
 *
 * <p>Holds one reference on its memtable from construction until {@link #close()} (idempotent), so the arena
 * it reads cannot be freed under it.
 *
 * <p>Thread-safety: not thread-safe; one thread at a time (the {@link EntryIterator} contract). Safe against
 * a concurrent writer of the memtable.
 */
final class MemtableIterator implements EntryIterator {
    private final Memtable owner;
    private final long snapshotSequence;

    /** The node at the position, 0 when not positioned or past the end. */
    private long current;
    private byte[] currentKey;
    private byte[] currentValue;
    private boolean closed;

    /** REQUIRES: the caller has acquired a reference on {@code owner} for this iterator to release. */
    MemtableIterator(Memtable owner, long snapshotSequence) {
        this.owner = owner;
        this.snapshotSequence = snapshotSequence;
    }

    @Override
    public void seekToFirst() {
        checkOpen();
        long head = owner.head();
        position(head == 0 ? 0 : MemtableNode.next(head, 0));
    }

    @Override
    public void seek(byte[] key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        long head = owner.head();
        // (key, Long.MAX_VALUE) sorts before every version of key: the newest version comes first.
        long base = MemtableNode.BYTE_ARRAY_BASE;
        position(head == 0 ? 0 : owner.findGreaterOrEqual(head, key, base, key.length,
                MemtableNode.prefixOf(key, base, key.length), Long.MAX_VALUE, null));
    }

    @Override
    public boolean valid() {
        checkOpen();
        return current != 0;
    }

    @Override
    public void next() {
        checkValid();
        position(MemtableNode.next(current, 0));
    }

    @Override
    public byte[] key() {
        checkValid();
        if (currentKey == null) {
            currentKey = MemtableNode.key(current);
        }
        return currentKey;
    }

    @Override
    public long sequence() {
        checkValid();
        return MemtableNode.sequence(current);
    }

    @Override
    public EntryKind kind() {
        checkValid();
        return MemtableNode.kind(current);
    }

    @Override
    public byte[] value() {
        checkValid();
        if (currentValue == null) {
            currentValue = MemtableNode.value(current);
        }
        return currentValue;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        current = 0;
        currentKey = null;
        currentValue = null;
        owner.release();
    }

    /** Moves to {@code node}, or the first node after it visible at the snapshot (newer ones are skipped). */
    private void position(long node) {
        currentKey = null;
        currentValue = null;
        while (node != 0 && MemtableNode.sequence(node) > snapshotSequence) {
            node = MemtableNode.next(node, 0);
        }
        current = node;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("iterator is closed");
        }
    }

    private void checkValid() {
        checkOpen();
        if (current == 0) {
            throw new IllegalStateException("iterator is not positioned at an entry (REQUIRES valid())");
        }
    }
}
