package dev.redoubt.replication.raft;

import dev.redoubt.common.DirectoryTrees;
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
 *       snapshot is verified in full ({@link #verifyLatestOrRetake}): when it is first needed, then again after
 *       1, 2, 4, 8 minutes and then every 10 (a follower that is down also counts as one that needs it, for as long
 *       as it is down). A damaged one is set aside and taken again, so that the next
 *       attempt sends an intact one (unless the damage is in a table the engine shares: then the engine is
 *       damaged, and the error line says what to do).</li>
 *   <li>On every member: a directory under Ratis' {@code tmp/} that holds a {@code *.corrupt*} file (an install
 *       that failed its MD5 check; Ratis starts each attempt in a new directory and leaves the old one) is
 *       deleted.</li>
 * </ul>
 * A failure here is logged and tried again at the next period; it never stops the member.
 *
 * <p>Thread-safety and locks: the periodic check runs on this guard's one thread, which alone touches the
 * re-check schedule ({@code lastVerified}, {@code lastVerifiedAtNanos}, {@code reverifyMillis},
 * {@code verifyRequestsServed}). {@link #verifyLatestOrRetake} touches none of it and is safe from any thread
 * (tests call it): it reads the snapshot in full outside the state machine's apply lock, and decides, sets aside
 * and takes a snapshot again inside it ({@link DbStateMachine#withApplyLock}), as every snapshot is taken.
 * {@link #verifyAtNextCheck} and {@link #close} are safe from any thread.
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

    /** What {@link #verifyLatestOrRetake} found. */
    enum SnapshotCheck {
        /** No snapshot, or the latest is intact (or was replaced by a newer one meanwhile). */
        INTACT,
        /** The latest was damaged; it is set aside and a new one was taken. */
        RETAKEN,
        /** The latest was damaged and is set aside, but no new one could be taken yet (the log says why). */
        RETAKE_PENDING,
        /**
         * A damaged file of the latest snapshot is the engine's own table (a hard link: same inode): the engine is
         * damaged, so a new snapshot would be too. Nothing is changed; the error line says what to do.
         */
        ENGINE_DAMAGED
    }

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
                DirectoryTrees.deleteTree(failed);
            }
            if (division.getInfo().isLeader() && aFollowerNeedsTheSnapshot()) {
                verifyLatest();
                // after a damaged snapshot was set aside and taking it again failed, the latest may end too early
                if (takeSnapshotIfBelow(division.getRaftLog().getStartIndex())) {
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
        SnapshotCheck found = verifyLatestOrRetake();
        // Only now (an IOException leaves the snapshot to be verified at the next period); a retaken one is new.
        boolean replaced = found == SnapshotCheck.RETAKEN || found == SnapshotCheck.RETAKE_PENDING;
        lastVerified = replaced ? null : s.dir();
        lastVerifiedAtNanos = now;
        verifyRequestsServed = requests;
    }

    /**
     * Reads the latest snapshot in full again and checks it against its manifest (on a leader whose followers need
     * a snapshot). A file damaged after the snapshot was written would otherwise go to every follower that needs
     * it, and each would refuse it (Ratis checks every file against the manifest's MD5) for as long as it stays the
     * latest. A damaged one is set aside as {@code damaged.*} and a snapshot is taken again at the applied index,
     * unless the damage is in a table the engine shares.
     */
    SnapshotCheck verifyLatestOrRetake() throws IOException {
        DbSnapshotStorage.DbSnapshot s = stateMachine.snapshotStorage().latest();
        if (s == null) {
            return SnapshotCheck.INTACT;
        }
        // Without the apply lock, so that applying goes on: a snapshot's files never change once it is complete.
        List<DbSnapshotStorage.Damage> damaged = DbSnapshotStorage.damagedFiles(s);
        if (damaged.isEmpty()) {
            return SnapshotCheck.INTACT;
        }
        return stateMachine.withApplyLock(() -> retakeDamaged(s, damaged));
    }

    /** REQUIRES the state machine's apply lock. The rest of {@link #verifyLatestOrRetake}: {@code s} is damaged. */
    private SnapshotCheck retakeDamaged(DbSnapshotStorage.DbSnapshot s, List<DbSnapshotStorage.Damage> damaged)
            throws IOException {
        assert stateMachine.applyLockHeld() : "REQUIRES the state machine's apply lock";
        DbSnapshotStorage snapshots = stateMachine.snapshotStorage();
        Path dir = stateMachine.directory();
        DbSnapshotStorage.DbSnapshot now = snapshots.latest();
        if (now == null || !now.dir().equals(s.dir())) {
            return SnapshotCheck.INTACT; // replaced meanwhile (and maybe retired: "missing" is no damage then)
        }
        for (DbSnapshotStorage.Damage d : damaged) {
            Object engineTable = FileTrees.fileKeyIfExists(dir.resolve(d.entry().path()));
            if (engineTable != null
                    && engineTable.equals(FileTrees.fileKeyIfExists(s.dir().resolve(d.entry().path())))) {
                LOG.error("{}: the latest snapshot {} is damaged in a table the engine still uses ({}): the engine"
                        + " itself is damaged. Stop this member and run `redoubt verify {}`; restore the"
                        + " member from the group (delete its directory and start it again) if it is corrupt",
                        dir, s.dir().getFileName(), d.why(), dir);
                return SnapshotCheck.ENGINE_DAMAGED;
            }
        }
        LOG.error("{}: the latest snapshot {} was damaged after it was written ({}); taking it again",
                dir, s.dir().getFileName(), damaged.get(0).why());
        boolean taken;
        try {
            // Ratis goes on being offered the damaged one (a send fails) until the new one is written
            Path aside = snapshots.setAside(s, false);
            // the intact tables' MD5s, from the set-aside copy: only the new checkpoint's other files are read
            taken = stateMachine.takeSnapshotHeld(true, DbSnapshotStorage.intactPart(s, aside, damaged));
        } finally {
            snapshots.refresh();
        }
        if (!taken) {
            LOG.warn("{}: no snapshot could be taken again now; the next check tries again", dir);
            return SnapshotCheck.RETAKE_PENDING;
        }
        stateMachine.countRetaken();
        return SnapshotCheck.RETAKEN;
    }

    /**
     * Takes a snapshot if the latest one ends before {@code logStart} - 1 (a follower sent it would still lack
     * entries the log no longer holds): after a damaged one was set aside and taking it again failed.
     *
     * @return whether a snapshot was taken
     */
    private boolean takeSnapshotIfBelow(long logStart) throws IOException {
        return stateMachine.withApplyLock(() -> {
            DbSnapshotStorage.DbSnapshot latest = stateMachine.snapshotStorage().latest();
            return (latest == null || latest.index() < logStart - 1) && stateMachine.takeSnapshotHeld(false, latest);
        });
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
