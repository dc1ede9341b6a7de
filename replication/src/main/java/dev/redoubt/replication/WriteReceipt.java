package dev.redoubt.replication;

/**
 * What a write reached: its LSN, the highest level it is known to have reached when the call returned, and the
 * epoch of the primary that accepted it (-1 when not known: a node of an older build). After a timeout the
 * receipt says exactly what is true of the write (for example durable on the primary and received by the backup,
 * but not yet fsynced there).
 */
public record WriteReceipt(long lsn, Reached reached, long epoch) {
    /** A receipt whose epoch is not known. */
    public WriteReceipt(long lsn, Reached reached) {
        this(lsn, reached, -1);
    }

    /** Levels in order; each implies the ones before it. */
    public enum Reached {
        LOCAL_WRITTEN,
        LOCAL_DURABLE,
        REMOTE_RECEIVED,
        REMOTE_DURABLE,
        REMOTE_APPLIED
    }

    public boolean satisfies(CommitLevel level) {
        return reached.compareTo(level.required()) >= 0;
    }
}
