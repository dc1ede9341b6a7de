package dev.redoubt.replication.raft;

/**
 * A stale read from one member, with its bound. The value reflects at least {@code appliedIndex} (the member's
 * applied index, read before its engine was). {@code leaderCommitIndex} is the leader's commit index as the leader
 * reported it <em>after</em> the read, so {@code lag = leaderCommitIndex - appliedIndex} bounds how many committed
 * entries the answer may be missing. Both are -1 when no leader answered (the bound is then unknown).
 *
 * @param value the value, or null when the key is absent on that member
 * @param member the member that answered
 */
public record StaleRead(byte[] value, String member, long appliedIndex, long leaderCommitIndex, long lag) {
    /** Whether a leader answered, so that {@link #lag()} is a bound. */
    public boolean boundKnown() {
        return leaderCommitIndex >= 0;
    }
}
