package dev.redoubt.replication.raft;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A data group member's watch over its own leadership: while it leads, its commit index must reach what its log
 * held {@value #PATIENCE_SECONDS} s earlier; if it does not (a {@link LagWatch} stall: Ratis 3.3's appenders to the
 * followers stuck in gRPC's reconnect backoff, so nothing commits although the followers are up), it steps down,
 * and the next leader replicates afresh. A leader that cannot commit because it lost its majority steps down too,
 * which Raft's own election would soon do anyway: the step-down never costs safety, at most an election.
 *
 * <p>One daemon thread per member, checking once a second; {@link #close} stops it.
 */
final class CommitStallGuard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CommitStallGuard.class);
    static final long PATIENCE_SECONDS = 10;

    private final RaftServer server;
    private final LagWatch watch = new LagWatch(TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS));
    private final Thread thread;
    private volatile boolean closed;

    CommitStallGuard(RaftServer server, String self) {
        this.server = server;
        this.thread = new Thread(this::run, "redoubt-commit-stall-guard-" + self);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(1_000);
                check();
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.debug("commit stall check: {}", e.toString());
            }
        }
    }

    private void check() throws IOException {
        var division = server.getDivision(RaftGroupNode.GROUP_ID);
        if (!division.getInfo().isLeader()) {
            watch.stalled(0, 0, System.nanoTime()); // not leading: forget any target
            return;
        }
        var log = division.getRaftLog();
        var last = log.getLastEntryTermIndex();
        long lastIndex = last == null ? -1 : last.getIndex();
        long commit = log.getLastCommittedIndex();
        if (watch.stalled(commit, lastIndex, System.nanoTime())) {
            LOG.warn("leading, but the commit index {} has not reached index {} that the log held {} s ago: stepping"
                    + " down so the next leader replicates to the followers afresh", commit, lastIndex, PATIENCE_SECONDS);
            RaftClientReply reply = server.transferLeadership(new TransferLeadershipRequest(ClientId.randomId(),
                    server.getId(), RaftGroupNode.GROUP_ID, 0, null, 3_000));
            if (!reply.isSuccess()) {
                LOG.warn("stepping down failed: {}", reply);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
