package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.engine.WriteOptions;
import dev.redoubt.wal.Durability;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine as a Ratis state machine (docs/raft-design.md). Each committed entry is applied as one atomic
 * write batch that also records the entry's (term, index) under a reserved key, so the engine's state is always
 * an index prefix and redo is idempotent by index: after a restart the engine reports the highest index it
 * holds, Ratis replays the committed entries after it, and an entry at or below it is skipped.
 *
 * <p>Key space: {@link RaftKeySpace} (client keys under {@code 0x01}, this class's metadata under {@code 0x00}).
 *
 * <p>Durability: the Raft log (fsynced by Ratis on a majority before an entry commits) is the durable log; the
 * engine applies with {@link Durability#ASYNC}, so the hot path has one fsync (the design's decision).
 *
 * <p>Snapshots are engine checkpoints ({@link DbSnapshotStorage}, which documents their layout).
 * {@link #takeSnapshot} records the applied (term, index) in the engine and checkpoints it, so the snapshot holds
 * exactly the index it reports. On a follower that Ratis brought up to date by install-snapshot,
 * {@link #reinitialize} replaces the engine with the received checkpoint ({@link DbInstall}, crash-safe); on
 * {@link #initialize}, a complete snapshot newer than the engine (a crash after the files arrived) is installed
 * the same way. A snapshot is verified in full (MD5 of every file) before it becomes the engine; a damaged one is
 * set aside as {@code damaged.*} and never used. A latest snapshot damaged after it was written is {@link
 * SnapshotGuard}'s to find and take again, through {@link #withApplyLock} and {@link #takeSnapshotHeld}.
 *
 * <p>Thread-safety: Ratis calls apply, snapshot and reinitialize from its one update thread, and
 * {@link SnapshotGuard} takes snapshots from its own; {@code applyLock} serializes every change
 * to the engine and to the applied (term, index), so that a snapshot's (term, index) and the engine state it
 * copies always match. Queries run on other threads and hold {@code dbLock}'s read lock; closing or replacing the
 * engine holds its write lock, and always inside {@code applyLock} (lock order: {@code applyLock}, then
 * {@code dbLock}). The counters and getters are safe from any thread.
 */
public final class DbStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(DbStateMachine.class);
    private static final WriteOptions APPLY = WriteOptions.ASYNC;

    private final StorageEnv env;
    private final Path dir;
    private final DbOptions options;
    private final DbSnapshotStorage snapshots = new DbSnapshotStorage();
    private final ReentrantLock applyLock = new ReentrantLock();
    private final ReentrantReadWriteLock dbLock = new ReentrantReadWriteLock();
    private final AtomicLong appliedEntries = new AtomicLong();
    private final AtomicLong snapshotsTaken = new AtomicLong();
    private final AtomicLong snapshotsInstalled = new AtomicLong();
    private final AtomicLong snapshotsRetaken = new AtomicLong();
    private volatile Db db;
    private volatile long recoveredAppliedIndex;
    private volatile Throwable failure;
    /** The engine as {@link DbInstall#install} closes and reopens it, under {@code dbLock}'s write lock. */
    private final DbInstall.Engine engine = new DbInstall.Engine() {
        @Override
        public void close() {
            closeDb();
        }

        @Override
        public TermIndex open() {
            assert dbLock.isWriteLockedByCurrentThread();
            return openDb();
        }
    };

    public DbStateMachine(Path dir, DbOptions options) {
        this(FileStorageEnv.INSTANCE, dir, options);
    }

    /**
     * The engine on {@code env}: tests run it on a {@code PowerLossStorageEnv}, so that killing the member loses
     * every engine byte not yet fsynced, and Ratis' replay must bring them back.
     */
    DbStateMachine(StorageEnv env, Path dir, DbOptions options) {
        this.env = env;
        this.dir = dir;
        this.options = options;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
        super.initialize(server, groupId, storage);
        getLifeCycle().startAndTransition(() -> {
            applyLock.lock();
            try {
                snapshots.init(storage);
                DbInstall.recover(env, dir);
                openDb();
                installNewerSnapshotAtStart();
                recoveredAppliedIndex = appliedIndex();
            } finally {
                applyLock.unlock();
            }
        }, IOException.class);
    }

    /**
     * A complete snapshot newer than the engine (the member crashed after Ratis had placed a received snapshot, or
     * its engine was lost): installed, newest first; one that fails verification is set aside with an error line.
     * REQUIRES applyLock.
     */
    private void installNewerSnapshotAtStart() throws IOException {
        assert applyLock.isHeldByCurrentThread();
        for (DbSnapshotStorage.DbSnapshot s : snapshots.complete()) {
            if (s.index() <= appliedIndex()) {
                return;
            }
            LOG.info("{}: snapshot {} is newer than the engine's applied index {}: installing it", dir,
                    s.termIndex(), appliedIndex());
            if (verifiedOrSetAside(s)) {
                install(s);
                return;
            }
        }
    }

    /** Checks every file of the snapshot; a damaged one is set aside (never used) with an error line. */
    private boolean verifiedOrSetAside(DbSnapshotStorage.DbSnapshot s) throws IOException {
        List<DbSnapshotStorage.Damage> damaged = DbSnapshotStorage.damagedFiles(s);
        if (damaged.isEmpty()) {
            return true;
        }
        LOG.error("{}: snapshot {} is not used: snapshot {}: {}", dir, s.dir().getFileName(), s.dir(),
                damaged.get(0).why());
        snapshots.setAside(s);
        return false;
    }

    /** REQUIRES applyLock. Opens the engine and takes (and returns) the applied (term, index) it holds. */
    private TermIndex openDb() {
        assert applyLock.isHeldByCurrentThread();
        Db opened = Db.open(env, dir, options);
        TermIndex applied = RaftKeySpace.readApplied(opened);
        db = opened;
        setLastAppliedTermIndex(applied);
        return applied;
    }

    /** REQUIRES applyLock and dbLock's write lock. Closes the engine, if open; queries then fail as closed. */
    private void closeDb() {
        assert applyLock.isHeldByCurrentThread() && dbLock.isWriteLockedByCurrentThread();
        Db d = db;
        db = null;
        if (d != null) {
            d.close();
        }
    }

    /**
     * The index the engine held when this member started (after any snapshot install): below the Raft log's
     * commit index when the engine lost its unsynced tail, which Ratis then replays.
     */
    public long recoveredAppliedIndex() {
        return recoveredAppliedIndex;
    }

    /** The highest Raft index this node's engine holds (0 before the first entry). */
    public long appliedIndex() {
        TermIndex t = getLastAppliedTermIndex();
        return t == null ? 0 : t.getIndex();
    }

    /** The engine batch that applies {@code writes} (null: a malformed entry, a no-op) at {@code termIndex}. */
    private static WriteBatch batchFor(RaftWriteBatch writes, TermIndex termIndex) {
        WriteBatch batch = new WriteBatch();
        if (writes != null) {
            for (RaftCommand w : writes.writes()) {
                if (w.op() == RaftCommand.PUT) {
                    batch.put(RaftKeySpace.stored(w.key()), w.value());
                } else {
                    batch.delete(RaftKeySpace.stored(w.key()));
                }
            }
        }
        batch.put(RaftKeySpace.APPLIED_KEY, RaftKeySpace.appliedValue(termIndex));
        return batch;
    }

    /**
     * On the leader, before a client's write enters the log: a write every member's engine would refuse (a
     * malformed command, a read sent as a write, a batch larger than the engine's WAL record bound) is refused
     * here, with the reason, and never committed. Committed, it would stop every member's state machine at the
     * same index, for ever. (Members must run the same engine options, as their WAL segment size sets the bound.)
     */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        String refusal = refusal(request);
        if (refusal == null) {
            return super.startTransaction(request);
        }
        // Ratis answers the client with a StateMachineException carrying this (a thrown exception would fail the
        // call as an I/O error, which clients retry).
        return TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request)
                .setServerRole(RaftPeerRole.LEADER).build()
                .setException(new IOException("refused before the log: " + refusal));
    }

    /** Why every engine would refuse this write, or null when it is fine. */
    private String refusal(RaftClientRequest request) {
        RaftWriteBatch writes;
        try {
            writes = RaftWriteBatch.decode(request.getMessage().getContent().asReadOnlyByteBuffer());
        } catch (IllegalArgumentException e) {
            return "a malformed write (" + e.getMessage() + "; send reads as queries)";
        }
        Db d = db;
        int bytes = batchFor(writes, TermIndex.valueOf(Long.MAX_VALUE, Long.MAX_VALUE)).encodedBytes();
        if (d != null && bytes > d.maxBatchBytes()) {
            return "the write takes " + bytes + " bytes in the engine, which takes batches up to " + d.maxBatchBytes()
                    + " bytes (one WAL record; its WAL segment size bounds it). Write a smaller value, or run every"
                    + " member with a larger --segment-bytes";
        }
        return null;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        TermIndex termIndex = TermIndex.valueOf(entry);
        applyLock.lock();
        try {
            if (termIndex.getIndex() <= appliedIndex()) {
                return CompletableFuture.completedFuture(Message.valueOf("skipped " + termIndex.getIndex()));
            }
            RaftWriteBatch writes;
            try {
                writes = RaftWriteBatch.decode(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
            } catch (IllegalArgumentException e) {
                writes = null; // a malformed entry is committed like any other: it applies as a no-op on every node
            }
            try {
                db.write(batchFor(writes, termIndex), APPLY);
            } catch (RuntimeException e) {
                recordFailure("applying entry " + termIndex, e);
                throw e;
            }
            updateLastAppliedTermIndex(termIndex);
            appliedEntries.incrementAndGet();
            return CompletableFuture.completedFuture(Message.valueOf(writes == null ? "malformed" : "ok"));
        } finally {
            applyLock.unlock();
        }
    }

    /**
     * Ratis reports entries that are not the state machine's (configuration, no-ops) here, including, after a
     * restart, ones at or below the index the engine already holds: the applied index never moves back.
     */
    @Override
    public void notifyTermIndexUpdated(long term, long index) {
        applyLock.lock();
        try {
            if (index > appliedIndex()) {
                super.notifyTermIndexUpdated(term, index);
            }
        } finally {
            applyLock.unlock();
        }
    }

    /**
     * Checkpoints the engine as snapshot (term, index) of the last applied entry and returns the index. The
     * applied (term, index) is first written to the engine (it may be ahead of the last batch when the entries
     * after it were configuration changes or no-ops), so the checkpoint holds exactly it; {@code Db.checkpoint}
     * makes the engine's state durable (a SYNC log marker, then a flush) before it links the tables.
     */
    @Override
    public long takeSnapshot() throws IOException {
        applyLock.lock();
        try {
            return takeSnapshotLocked(false, snapshots.latest());
        } finally {
            applyLock.unlock();
        }
    }

    /**
     * REQUIRES applyLock. With {@code again}, even if the latest snapshot covers the applied index; the MD5s of
     * tables that are the same files as in {@code previous} are reused.
     */
    private long takeSnapshotLocked(boolean again, DbSnapshotStorage.DbSnapshot previous) throws IOException {
        assert applyLock.isHeldByCurrentThread();
        TermIndex applied = getLastAppliedTermIndex();
        DbSnapshotStorage.DbSnapshot latest = snapshots.latest();
        if (getLifeCycleState() != LifeCycle.State.RUNNING) {
            LOG.info("{}: no snapshot while the state machine is {}", dir, getLifeCycleState());
            return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.index();
        }
        if (applied == null || applied.getIndex() <= 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        if (!again && latest != null && latest.index() >= applied.getIndex()) {
            return latest.index();
        }
        try {
            Db d = db;
            byte[] value = RaftKeySpace.appliedValue(applied);
            if (!Arrays.equals(d.get(RaftKeySpace.APPLIED_KEY), value)) {
                d.write(new WriteBatch().put(RaftKeySpace.APPLIED_KEY, value), APPLY);
            }
            snapshots.write(applied, d::checkpoint, previous);
        } catch (RuntimeException e) {
            // Ratis handles an IOException here (it logs it and tries again later); anything else stops it
            throw new IOException("taking snapshot " + applied + " of " + dir + " failed: " + e.getMessage(), e);
        }
        snapshotsTaken.incrementAndGet();
        LOG.info("{}: took snapshot {}", dir, applied);
        return applied.getIndex();
    }

    /** What runs under the apply lock ({@link #withApplyLock}). */
    @FunctionalInterface
    interface ApplyLocked<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code action} holding applyLock (the apply lock): meanwhile no entry is applied, no snapshot is taken
     * or installed and the engine is not closed. For {@link SnapshotGuard}, whose retake must see the latest
     * snapshot and take the new one with nothing in between.
     */
    <T> T withApplyLock(ApplyLocked<T> action) throws IOException {
        applyLock.lock();
        try {
            return action.run();
        } finally {
            applyLock.unlock();
        }
    }

    /**
     * REQUIRES applyLock ({@link #withApplyLock}). Takes a snapshot at the applied index, as {@link #takeSnapshot}
     * does ({@code again} and {@code previous}: as for {@link #takeSnapshotLocked}).
     *
     * @return whether a snapshot was taken (none while the state machine is not running or before its first
     *     entry; a failure throws)
     */
    boolean takeSnapshotHeld(boolean again, DbSnapshotStorage.DbSnapshot previous) throws IOException {
        assert applyLock.isHeldByCurrentThread();
        long taken = snapshotsTaken.get();
        takeSnapshotLocked(again, previous);
        return snapshotsTaken.get() != taken;
    }

    /** Whether the calling thread holds the apply lock (for the assertions of code that requires it). */
    boolean applyLockHeld() {
        return applyLock.isHeldByCurrentThread();
    }

    /** REQUIRES applyLock. Counts a damaged latest snapshot that {@link SnapshotGuard} set aside and took again. */
    void countRetaken() {
        assert applyLock.isHeldByCurrentThread();
        snapshotsRetaken.incrementAndGet();
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return snapshots;
    }

    DbSnapshotStorage snapshotStorage() {
        return snapshots;
    }

    /** The engine's directory (the state machine's own: {@code db/} of the member). */
    Path directory() {
        return dir;
    }

    /** Ratis pauses the state machine before it moves a received snapshot into place, then calls reinitialize. */
    @Override
    public void pause() {
        applyLock.lock();
        try {
            if (getLifeCycleState() == LifeCycle.State.RUNNING) {
                getLifeCycle().transition(LifeCycle.State.PAUSING);
                getLifeCycle().transition(LifeCycle.State.PAUSED);
            }
        } finally {
            applyLock.unlock();
        }
    }

    /**
     * After Ratis installed a snapshot from the leader (its files are now this member's snapshot directory):
     * replaces the engine with it. Ratis then takes the snapshot's index as the applied index, so a snapshot that
     * cannot be used is an error that stops the member (Ratis closes it), never a silent skip.
     */
    @Override
    public void reinitialize() throws IOException {
        applyLock.lock();
        try {
            reinitializeLocked();
        } catch (IOException | RuntimeException e) {
            recordFailure("installing the snapshot received from the leader", e);
            throw e;
        } finally {
            applyLock.unlock();
        }
    }

    /** REQUIRES applyLock. */
    private void reinitializeLocked() throws IOException {
        assert applyLock.isHeldByCurrentThread();
        DbSnapshotStorage.DbSnapshot s = snapshots.refresh();
        if (s == null) {
            throw new StorageException(ErrorCode.CORRUPTION, dir + ": Ratis installed a snapshot, but the snapshot"
                    + " directory holds no complete one (see the warnings above); " + DbInstall.REJOIN);
        }
        if (s.index() > appliedIndex()) {
            LOG.info("{}: installing snapshot {} received from the leader (engine at index {})", dir,
                    s.termIndex(), appliedIndex());
            if (!verifiedOrSetAside(s)) {
                throw new StorageException(ErrorCode.CORRUPTION, dir + ": the snapshot Ratis installed does not"
                        + " match its manifest (see the error above); " + DbInstall.REJOIN);
            }
            install(s);
        } else {
            LOG.info("{}: snapshot {} is not newer than the engine (index {}): keeping the engine", dir,
                    s.termIndex(), appliedIndex());
        }
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    /**
     * Remembers why this state machine failed, before the exception goes to Ratis, which logs it and stops the
     * member (closes its division); {@link RaftGroupNode#stoppedOnItsOwn} reports it.
     */
    private void recordFailure(String what, Exception e) {
        LOG.error("{}: {} failed ({}); Ratis stops this member", dir, what, e.toString());
        failure = new IllegalStateException(what + " failed: " + e.getMessage(), e);
    }

    /** Why this state machine failed (so Ratis stopped the member), or null. */
    public Throwable failure() {
        return failure;
    }

    /**
     * REQUIRES applyLock and a verified snapshot. Replaces the engine with the snapshot's checkpoint
     * ({@link DbInstall#install}: crash-safe, and checked to hold exactly the snapshot's (term, index)), holding
     * dbLock's write lock while no engine is open.
     */
    private void install(DbSnapshotStorage.DbSnapshot s) throws IOException {
        assert applyLock.isHeldByCurrentThread();
        TermIndex held = DbInstall.install(env, dir, s, dbLock.writeLock(), engine);
        snapshotsInstalled.incrementAndGet();
        LOG.info("{}: the engine now holds snapshot {}", dir, held);
    }

    /**
     * Called once the member's server has started: trims a Raft log that ends below the snapshot the state machine
     * reported, as Ratis does itself after an install-snapshot ({@link RaftLog#onSnapshotInstalled}). Ratis 3.3.0
     * opens such a log as it is (it only warns "End log index ... is smaller than last index in snapshot") and then
     * refuses the leader's next entry for ever ("gap between entries"; RATIS-2507). It happens when the member
     * stopped between Ratis' placing of a received snapshot and its trimming of the log, or when
     * {@link #initialize} installed a snapshot it found newer than the engine.
     */
    void trimRaftLogBelowSnapshot(RaftLog log) {
        TermIndex last = log.getLastEntryTermIndex();
        long snapshotIndex = log.getSnapshotIndex();
        if (last != null && last.getIndex() < snapshotIndex) {
            LOG.warn("{}: the Raft log ends at index {}, below the snapshot at index {}: trimming it as after an"
                    + " install-snapshot", dir, last.getIndex(), snapshotIndex);
            log.onSnapshotInstalled(snapshotIndex).join();
        }
    }

    /** A read (GET or SCAN, see {@link DbQuery}); the answer carries this member's applied index (its bound). */
    @Override
    public CompletableFuture<Message> query(Message request) {
        dbLock.readLock().lock();
        try {
            long applied = appliedIndex(); // read before the engine: the answer reflects at least this index
            RaftCommand command = RaftCommand.decode(request.getContent().asReadOnlyByteBuffer());
            Db d = db;
            if (d == null) {
                throw new StorageException(ErrorCode.CLOSED, "this member's engine is closed (stopping, or replaced"
                        + " by a snapshot that could not be opened); retry on another member");
            }
            return CompletableFuture.completedFuture(Message.valueOf(DbQuery.answer(d, command, applied)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            dbLock.readLock().unlock();
        }
    }

    /** The node's engine (for status and tests); reads through it bypass Raft (stale). */
    public Db db() {
        return db;
    }

    /** Entries this member applied to its engine since it started (skipped replays are not counted). */
    public long appliedEntries() {
        return appliedEntries.get();
    }

    /** Snapshots this member took since it started. */
    public long snapshotsTaken() {
        return snapshotsTaken.get();
    }

    /** Snapshots this member installed into its engine since it started (from the leader, or found at start). */
    public long snapshotsInstalled() {
        return snapshotsInstalled.get();
    }

    /** Damaged latest snapshots this member set aside and took again since it started. */
    public long snapshotsRetaken() {
        return snapshotsRetaken.get();
    }

    /** The index of this member's latest complete snapshot, or -1. */
    public long latestSnapshotIndex() {
        DbSnapshotStorage.DbSnapshot s = snapshots.latest();
        return s == null ? RaftLog.INVALID_LOG_INDEX : s.index();
    }

    @Override
    public void close() throws IOException {
        super.close();
        applyLock.lock(); // not while a snapshot is taken (SnapshotGuard takes one on its own thread)
        dbLock.writeLock().lock();
        try {
            closeDb();
        } finally {
            dbLock.writeLock().unlock();
            applyLock.unlock();
        }
    }
}
