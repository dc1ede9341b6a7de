package dev.redoubt.replication.raft;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a snapshot that was damaged after it was written from going round in circles between a leader and a
 * follower. Without it, the follower's Ratis refuses each copy (a file whose MD5 differs from the manifest's),
 * the leader sends the same snapshot again at once, the follower never catches up, and every attempt leaves
 * its files (renamed {@code *.corrupt<time>}) in the follower's Ratis {@code tmp/} directory until the disk is full.
 *
 * <p>Every {@value #PERIOD_MILLIS} ms, on its own thread:
 * <ul>
 *   <li>On a leader with a follower behind the start of its log (one that needs the snapshot): the latest
 *       snapshot is verified in full ({@link DbStateMachine#verifyLatestSnapshotOrRetake}): when it is first
 *       needed, then again after 1, 2, 4, 8 minutes and then every 10 (a follower that is down also counts as one
 *       that needs it, for as long as it is down). A damaged one is set aside and taken again, so that the next
 *       attempt sends an intact one (unless the damage is in a table the engine shares: then the engine is
 *       damaged, and the error line says what to do).</li>
 *   <li>On every member: a directory under Ratis' {@code tmp/} that holds a {@code *.corrupt*} file (an install
 *       that failed its MD5 check; Ratis starts each attempt in a new directory and leaves the old one) is
 *       deleted.</li>
 * </ul>
 * A failure here is logged and tried again at the next period; it never stops the member.
 */
final class SnapshotGuard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotGuard.class);
    static final long PERIOD_MILLIS = 2_000;
    /** The same snapshot is verified again after 1 minute, then after 2, 4, 8 and then every 10 minutes. */
    static final long FIRST_REVERIFY_MILLIS = 60_000;
    static final long MAX_REVERIFY_MILLIS = 600_000;
    /** What Ratis inserts into the name of a received file whose MD5 did not match. */
    static final String CORRUPT_MARK = ".corrupt";

    private final RaftServer.Division division;
    private final DbStateMachine stateMachine;
    private final Path ratisTmp;
    private final ScheduledExecutorService timer;
    private Path lastVerified;
    private long lastVerifiedAtNanos;
    private long reverifyMillis = FIRST_REVERIFY_MILLIS;
    /** Requests to verify at the next check whatever the interval; one made during a check counts for the next. */
    private final AtomicLong verifyRequests = new AtomicLong();
    private long verifyRequestsServed;
    private volatile boolean closed;

    SnapshotGuard(RaftServer.Division division, DbStateMachine stateMachine, String self) {
        this.division = division;
        this.stateMachine = stateMachine;
        this.ratisTmp = division.getRaftStorage().getStorageDir().getTmpDir().toPath();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "redoubt-snapshot-guard-" + self);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Never throws: an exception would cancel every later run of this periodic task. */
    private void check() {
        try {
            if (closed || division.getInfo().getLifeCycleState().isClosingOrClosed()) {
                return; // stopped (RaftGroupNode.stoppedOnItsOwn says why), or closing
            }
            for (Path failed : failedInstalls(ratisTmp)) {
                LOG.warn("{}: removing {}: a snapshot install whose files did not match the leader's manifest"
                        + " (the leader's copy is damaged; it takes it again)", ratisTmp, failed.getFileName());
                FileTrees.deleteTree(failed);
            }
            if (division.getInfo().isLeader() && aFollowerNeedsTheSnapshot()) {
                verifyLatest();
                // after a damaged snapshot was set aside and taking it again failed, the latest may end too early
                if (stateMachine.takeSnapshotIfBelow(division.getRaftLog().getStartIndex())) {
                    lastVerified = null;
                }
            }
        } catch (Throwable e) {
            LOG.warn("{}: checking snapshots failed, trying again in {} ms: {}", ratisTmp, PERIOD_MILLIS, e.toString());
        }
    }

    private boolean aFollowerNeedsTheSnapshot() {
        long start = division.getRaftLog().getStartIndex();
        for (long next : division.getInfo().getFollowerNextIndices()) {
            if (next < start) {
                return true;
            }
        }
        return false;
    }

    private void verifyLatest() throws IOException {
        DbSnapshotStorage.DbSnapshot s = stateMachine.snapshotStorage().latest();
        if (s == null) {
            return;
        }
        long now = System.nanoTime();
        long requests = verifyRequests.get();
        if (!s.dir().equals(lastVerified)) {
            reverifyMillis = FIRST_REVERIFY_MILLIS;
        } else if (requests == verifyRequestsServed) {
            if (now - lastVerifiedAtNanos < TimeUnit.MILLISECONDS.toNanos(reverifyMillis)) {
                return;
            }
            reverifyMillis = Math.min(reverifyMillis * 2, MAX_REVERIFY_MILLIS);
        }
        DbStateMachine.SnapshotCheck found = stateMachine.verifyLatestSnapshotOrRetake();
        // Only now (an IOException leaves the snapshot to be verified at the next period); a retaken one is new.
        boolean replaced = found == DbStateMachine.SnapshotCheck.RETAKEN
                || found == DbStateMachine.SnapshotCheck.RETAKE_PENDING;
        lastVerified = replaced ? null : s.dir();
        lastVerifiedAtNanos = now;
        verifyRequestsServed = requests;
    }

    /** Tests: verify the latest snapshot at the next check (on a leader that a follower needs it from). */
    void verifyAtNextCheck() {
        verifyRequests.incrementAndGet();
    }

    /**
     * The directories directly under Ratis' {@code tmp/} directory {@code root} that hold a file whose name contains
     * {@value #CORRUPT_MARK}: what installs that failed their MD5 check left behind. Empty if {@code root} does not
     * exist.
     */
    static List<Path> failedInstalls(Path root) throws IOException {
        List<Path> failed = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return failed;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(f -> f.getFileName().toString().contains(CORRUPT_MARK)).toList()) {
                Path top = root.resolve(root.relativize(p).getName(0));
                if (!top.equals(p) && Files.isDirectory(top) && !failed.contains(top)) {
                    failed.add(top);
                }
            }
        }
        return failed;
    }

    /** Stops the checks, waiting (a bounded time) for one that runs, so that it does not outlive the engine. */
    @Override
    public void close() {
        closed = true;
        timer.shutdown();
        try {
            if (!timer.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("{}: a snapshot check still runs after 30 s; closing without it", ratisTmp);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
