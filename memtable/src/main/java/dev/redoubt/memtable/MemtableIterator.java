package dev.redoubt.memtable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.ConcurrentNavigableMap;

/**
 * An {@link EntryIterator} over one memtable at a snapshot sequence: the versions with sequence {@code <=}
 * snapshot, in internal order. It walks the skip list's base level with the map's own iterators, which are
 * weakly consistent: each traverses every version present when it was created exactly once, and may or may not
 * reflect versions added later (the memtable never removes one). Each positioning call
 * ({@link #seekToFirst()}, {@link #seek}) starts a fresh walk, so it sees at least what existed then.
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
    private final ConcurrentNavigableMap<Version, Version> index;
    private final long snapshotSequence;

    private Iterator<Version> walk;
    private Version current;
    private byte[] currentKey;
    private byte[] currentValue;
    private boolean closed;

    /** REQUIRES: the caller has acquired a reference on {@code owner} for this iterator to release. */
    MemtableIterator(Memtable owner, ConcurrentNavigableMap<Version, Version> index, long snapshotSequence) {
        this.owner = owner;
        this.index = index;
        this.snapshotSequence = snapshotSequence;
    }

    @Override
    public void seekToFirst() {
        checkOpen();
        position(index.keySet().iterator());
    }

    @Override
    public void seek(byte[] key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        // (key, Long.MAX_VALUE) sorts before every version of key: the newest version comes first.
        position(index.tailMap(Version.probe(key, Long.MAX_VALUE), true).keySet().iterator());
    }

    @Override
    public boolean valid() {
        checkOpen();
        return current != null;
    }

    @Override
    public void next() {
        checkValid();
        advance();
    }

    @Override
    public byte[] key() {
        checkValid();
        if (currentKey == null) {
            currentKey = current.key();
        }
        return currentKey;
    }

    @Override
    public long sequence() {
        checkValid();
        return current.sequence;
    }

    @Override
    public EntryKind kind() {
        checkValid();
        return current.kind;
    }

    @Override
    public byte[] value() {
        checkValid();
        if (currentValue == null) {
            currentValue = current.value();
        }
        return currentValue;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        walk = null;
        current = null;
        currentKey = null;
        currentValue = null;
        owner.release();
    }

    private void position(Iterator<Version> newWalk) {
        walk = newWalk;
        advance();
    }

    /** Moves to the next version visible at the snapshot, skipping those newer than it. */
    private void advance() {
        current = null;
        currentKey = null;
        currentValue = null;
        while (walk.hasNext()) {
            Version v = walk.next();
            if (v.sequence <= snapshotSequence) {
                current = v;
                return;
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("iterator is closed");
        }
    }

    private void checkValid() {
        checkOpen();
        if (current == null) {
            throw new IllegalStateException("iterator is not positioned at an entry (REQUIRES valid())");
        }
    }
}
