package dev.redoubt.replication;

/**
 * How far a write on a primary must get before it is acknowledged (PostgreSQL's {@code synchronous_commit}).
 * A remote level waits for a backup up to the node's timeout and then fails the write with
 * {@link ReplicationTimeoutException}; it never silently settles for less.
 */
public enum CommitLevel {
    /** Durable on the primary (fsynced). */
    LOCAL,
    /** Also fsynced by a backup: no acknowledged write is lost when the primary dies. */
    REMOTE_DURABLE,
    /** Also applied by a backup: a read on the backup sees it. */
    REMOTE_APPLY;

    /** The receipt level a write must reach to satisfy this commit level. */
    WriteReceipt.Reached required() {
        return switch (this) {
            case LOCAL -> WriteReceipt.Reached.LOCAL_DURABLE;
            case REMOTE_DURABLE -> WriteReceipt.Reached.REMOTE_DURABLE;
            case REMOTE_APPLY -> WriteReceipt.Reached.REMOTE_APPLIED;
        };
    }
}
