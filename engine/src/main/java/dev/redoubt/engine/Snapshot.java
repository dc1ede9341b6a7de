package dev.redoubt.engine;

/**
 * A consistent point-in-time view: reads through it see every write acknowledged before it was taken and none
 * after. Compaction keeps the versions it needs until it is closed. Thread-safe; close exactly once.
 */
public final class Snapshot implements AutoCloseable {
    private final Db db;
    private final long sequence;
    private boolean closed;

    Snapshot(Db db, long sequence) {
        this.db = db;
        this.sequence = sequence;
    }

    /** The highest sequence number visible through this snapshot. */
    public long sequence() {
        return sequence;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            db.releaseSnapshot(sequence);
        }
    }
}
