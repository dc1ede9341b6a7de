package dev.redoubt.engine;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.KeyOrder;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A scan: the newest visible version of each key in {@code [from, to)}, in unsigned byte order, tombstones
 * hidden, at one snapshot. Holds its {@link SuperVersion} (so the memtables and tables it reads stay open) until
 * closed. Not thread-safe.
 */
public final class DbIterator implements Iterator<KeyValue>, AutoCloseable {
    private final EntryIterator merged;
    private final byte[] to;
    private final long snapshot;
    private final Runnable release;
    private KeyValue next;
    private byte[] lastKey;
    private boolean closed;

    DbIterator(EntryIterator merged, byte[] from, byte[] to, long snapshot, Runnable release) {
        this.merged = merged;
        this.to = to;
        this.snapshot = snapshot;
        this.release = release;
        if (from == null) {
            merged.seekToFirst();
        } else {
            merged.seek(from);
        }
        advance();
    }

    private void advance() {
        next = null;
        while (merged.valid()) {
            byte[] key = merged.key();
            if (to != null && KeyOrder.compareKeys(key, to) >= 0) {
                return;
            }
            long sequence = merged.sequence();
            boolean olderVersion = lastKey != null && KeyOrder.compareKeys(key, lastKey) == 0;
            if (sequence > snapshot || olderVersion) {
                merged.next();
                continue;
            }
            // Sources may reuse their arrays on the next move: keep copies.
            key = key.clone();
            lastKey = key;
            EntryKind kind = merged.kind();
            byte[] value = merged.value().clone();
            merged.next();
            if (kind == EntryKind.PUT) {
                next = new KeyValue(key, value);
                return;
            }
        }
    }

    @Override
    public boolean hasNext() {
        if (closed) {
            throw new IllegalStateException("the iterator is closed");
        }
        return next != null;
    }

    @Override
    public KeyValue next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        KeyValue current = next;
        advance();
        return current;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            merged.close();
            release.run();
        }
    }
}
