package dev.redoubt.replication.failover;

/**
 * A standby's view of the primary record (docs/pair-failover.md): when it first saw the holder's latest
 * renewal, and whether that renewal has now gone stale long enough ({@link LeaseClock#standbyMayTakeOverFrom})
 * for a takeover. Fed the record each time the standby reads it, with its own clock's reading.
 *
 * <p>Not thread-safe: the standby's failover agent owns it.
 */
public final class StandbyWatch {
    private final String self;
    private final LeaseClock clock;
    private PrimaryRecord seen;
    private long firstSeenNanos;

    public StandbyWatch(String self, LeaseClock clock) {
        this.self = self;
        this.clock = clock;
    }

    /** The record as read at {@code nowNanos}: a new epoch or renewal restarts the wait. */
    public void observed(PrimaryRecord record, long nowNanos) {
        if (seen == null || record.epoch() != seen.epoch() || record.renewalIndex() != seen.renewalIndex()) {
            seen = record;
            firstSeenNanos = nowNanos;
        }
    }

    /**
     * The takeover to propose at {@code nowNanos}, or null: none while nothing was seen, while this node holds
     * the record itself, while nobody holds it (a first promotion is the operator's or a starting node's), or
     * before the holder's renewal has been stale for the wait.
     */
    public PrimaryRecordCommand takeoverDue(long nowNanos) {
        if (seen == null || !seen.hasHolder() || seen.holder().equals(self)
                || nowNanos - clock.standbyMayTakeOverFrom(firstSeenNanos) < 0) {
            return null;
        }
        return PrimaryRecordCommand.takeover(seen.epoch() + 1, self, seen.renewalIndex());
    }
}
