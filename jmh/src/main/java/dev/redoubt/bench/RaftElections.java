package dev.redoubt.bench;

import dev.redoubt.replication.raft.RaftAdmin;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftKvClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Leader election after {@code SIGKILL}, the last part of {@link RaftHarness}: kills the leader of a
 * {@link RedoubtGroup} {@code kills} times and measures the time until a surviving member reports itself leader
 * (polled every 5 ms) and until the first write is acknowledged again (a client with 500 ms attempts). The
 * killed member is restarted and caught up before the next kill.
 */
final class RaftElections {
    private RaftElections() {
    }

    /** The sorted times of every kill, in nanoseconds. */
    record Summary(long[] electedNanos, long[] firstWriteNanos) {
        int kills() {
            return electedNanos.length;
        }

        /** {median, p99 (the largest of fewer than 100), max} of {@code sortedNanos}, in milliseconds. */
        static double[] millis(long[] sortedNanos) {
            return new double[] {ClosedLoopLoad.percentileMillis(sortedNanos, 0.5),
                    ClosedLoopLoad.percentileMillis(sortedNanos, 0.99),
                    ClosedLoopLoad.percentileMillis(sortedNanos, 1.0)};
        }

        @Override
        public String toString() {
            double[] e = millis(electedNanos);
            double[] w = millis(firstWriteNanos);
            return String.format(Locale.ROOT, "leader election after SIGKILL of the leader (%d kills): median %.0f ms,"
                    + " p99 %.0f ms, max %.0f ms; first acknowledged write: median %.0f ms, p99 %.0f ms, max %.0f ms",
                    kills(), e[0], e[1], e[2], w[0], w[1], w[2]);
        }
    }

    /** Kills the leader {@code kills} (at least 1) times; prints each kill. */
    static Summary measure(RedoubtGroup group, int kills) throws Exception {
        List<RaftGroupNode.Peer> peers = group.peers();
        long[] elected = new long[kills];
        long[] firstWrite = new long[kills];
        try (RaftKvClient client = RaftKvClient.connect(peers, 500, 200)) {
            for (int k = 0; k < kills; k++) {
                int leader = group.awaitLeader(-1, -1);
                long term = term(peers, leader);
                group.kill(leader);
                long killed = System.nanoTime();
                int next = group.awaitLeader(leader, term);
                elected[k] = System.nanoTime() - killed;
                client.put(("after-kill-" + k).getBytes(StandardCharsets.UTF_8), new byte[] {1});
                firstWrite[k] = System.nanoTime() - killed;
                System.out.printf(Locale.ROOT, "kill %d: m%d killed, m%d leader after %.0f ms, first write after %.0f"
                        + " ms%n", k + 1, leader, next, elected[k] / 1e6, firstWrite[k] / 1e6);
                group.restart(leader);
                awaitCaughtUp(peers);
            }
        }
        Arrays.sort(elected);
        Arrays.sort(firstWrite);
        return new Summary(elected, firstWrite);
    }

    private static long term(List<RaftGroupNode.Peer> peers, int member) throws IOException {
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
            return admin.status().get(member).term();
        }
    }

    /** Waits until every member answers and has applied the leader's commit index. */
    private static void awaitCaughtUp(List<RaftGroupNode.Peer> peers) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
            while (System.nanoTime() < deadline) {
                List<RaftAdmin.Member> status = admin.status();
                long commit = status.stream().mapToLong(RaftAdmin.Member::commitIndex).max().orElse(0);
                if (status.stream().allMatch(m -> m.reachable() && m.appliedIndex() >= commit)) {
                    return;
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("a restarted member did not catch up within two minutes");
    }
}
