package dev.redoubt.replication.raft;

import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;

/**
 * How a leader answers a linearizable read ({@link RaftKvClient#get}, {@link RaftKvClient#scan}): a member-side
 * choice, the same on every member of a group (a member that becomes leader reads its own way). Stale reads
 * ({@link RaftKvClient#getStale}) are not affected. docs/raft-design.md, "Reads", has the measured difference.
 */
public enum RaftReadMode {
    /**
     * The default. The leader notes its commit index, confirms with a round of heartbeats that a majority still
     * follows it, waits until it has applied that index and reads. Linearizable whatever the clocks do: the cost
     * is one round trip to a majority per read (Ratis batches the reads waiting at the same time into one round).
     */
    READ_INDEX,

    /**
     * The leader skips the heartbeat round while it holds a lease: a majority acknowledged an append it sent less
     * than {@code ratio × the minimum election timeout} ago ({@link #LEASE_RATIO}). The lease ends before another
     * member can be elected: a candidate needs a pre-vote first (Ratis' default), and a follower refuses it while
     * it heard from its leader within the minimum election timeout, which it did after the leader sent the append
     * it acknowledged. Without a valid lease the leader reads as {@link #READ_INDEX}. Ratis gives the lease up
     * before a leadership transfer (whose election skips the pre-vote), and a new leader has none until its
     * followers acknowledge it.
     *
     * <p><b>The guarantee is weaker</b>, and holds only while:
     * <ul>
     *   <li>every member's clock advances at a rate within {@code 1 - ratio} (10%) of the others'. Times are read
     *       from each JVM's monotonic clock, so a wall clock set back or forward does not matter; a virtual
     *       machine whose clock stalls while it is paused, or a clock running slow by more than 10%, can let a
     *       deposed leader answer a read from before a newer write;</li>
     *   <li>no member restarts within the lease (about 135 ms with the default timeouts) after it acknowledged
     *       an append: a restarted follower remembers no leader and grants a pre-vote at once. A JVM takes longer
     *       than that to start.</li>
     * </ul>
     * Pauses of the leader itself (GC) are safe: the lease is checked when the read arrives, within the read.
     */
    LEADER_LEASE;

    /** The fraction of the minimum election timeout a lease lasts (Ratis' default). */
    public static final double LEASE_RATIO = 0.9;

    /** Parses a CLI value: {@code read-index} or {@code leader-lease} (case-insensitive, {@code _} for {@code -}). */
    public static RaftReadMode parse(String s) {
        String n = s.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
        for (RaftReadMode m : values()) {
            if (m.name().equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown read mode '" + s + "': use read-index (the default) or leader-lease");
    }

    /** The CLI spelling: {@code read-index}, {@code leader-lease}. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    void applyTo(RaftProperties properties) {
        RaftServerConfigKeys.Read.setOption(properties, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(properties, this == LEADER_LEASE);
        RaftServerConfigKeys.Read.setLeaderLeaseTimeoutRatio(properties, LEASE_RATIO);
    }
}
