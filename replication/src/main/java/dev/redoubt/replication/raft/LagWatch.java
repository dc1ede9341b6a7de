package dev.redoubt.replication.raft;

/**
 * Notices a Raft position that stopped following another: a value ({@code applied}) that stays below what a second
 * one ({@code committed}) had reached {@code patienceNanos} earlier. Ratis 3.3's gRPC log appender can stall:
 * <ul>
 *   <li>for a member of a pair's failover group that was unreachable when the leader took over and whose log is
 *       empty (the leader keeps a next index past the member's end): the member's applied index stays below the
 *       group's commit ({@code PairFailover}); and a member with an empty log cannot help elect a new leader, so if
 *       the leader then died the group would stay without one;</li>
 *   <li>for a data group's new leader whose appenders to both followers fail and back off (seen once in the Raft
 *       nemesis' proxy mode): its commit index stays below its own last index ({@link CommitStallGuard}).</li>
 * </ul>
 * The cure is a leadership change: the new leader replicates to every member afresh.
 *
 * <p>Fed readings on one process' monotonic clock; not thread-safe (the failover agent owns it).
 */
public final class LagWatch {
    private final long patienceNanos;
    private long target = -1;
    private long targetSinceNanos;

    public LagWatch(long patienceNanos) {
        this.patienceNanos = patienceNanos;
    }

    /**
     * One reading: the member has applied {@code applied}, the group has committed at least {@code committed}.
     * True when the member has stayed below an index committed a whole patience ago (then the watch restarts).
     */
    public boolean stalled(long applied, long committed, long nowNanos) {
        if (target >= 0 && applied >= target) {
            target = -1;
        }
        if (target < 0) {
            if (applied < committed) {
                target = committed;
                targetSinceNanos = nowNanos;
            }
            return false;
        }
        if (nowNanos - targetSinceNanos - patienceNanos >= 0) {
            target = -1;
            return true;
        }
        return false;
    }
}
