package dev.redoubt.replication;

/**
 * What a write reached: its LSN and the highest level it is known to have reached when the call returned.
 * After a timeout the receipt says exactly what is true of the write (for example durable on the primary and
 * received by the backup, but not yet fsynced there).
 */
public record WriteReceipt(long lsn, Reached reached) {
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
