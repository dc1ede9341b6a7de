package dev.redoubt.engine;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Found;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.memtable.Memtable;
import dev.redoubt.sstable.MergingIterator;
import dev.redoubt.sstable.SstOptions;
import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The state and mechanics behind {@link Db}: memtables, super versions, the applier the WAL leader calls,
 * stalls, snapshots, and recovery at open. Background flush and compaction run in {@link BackgroundWork}.
 *
 * <p>Locking: {@code stateLock} guards the memtable list and the installation of super versions;
 * {@code flushed} (its condition) wakes stalled writers and flush waiters. The applier runs on the WAL's leader
 * thread, one record at a time, in LSN order: it is the memtable's only writer.
 */
final class DbEngine implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DbEngine.class);

    private final StorageEnv env;
    private final Path dir;
    private final DbOptions options;
    final VersionSet versions;
    final TableCache tables;
    final SstOptions sstOptions;
    private Wal wal;

    final ReentrantLock stateLock = new ReentrantLock();
    final Condition flushed = stateLock.newCondition();
    /** REQUIRES stateLock to change. Oldest first; each with the checkpoint LSN its flush will record. */
    final List<ImmutableMemtable> immutables = new ArrayList<>();
    private Memtable active;
    private volatile SuperVersion current;
    private final Set<SuperVersion> live = ConcurrentHashMap.newKeySet();
    final Set<Long> pendingOutputs = ConcurrentHashMap.newKeySet();

    private volatile long visibleSequence = -1;
    private final ConcurrentSkipListMap<Long, Integer> snapshots = new ConcurrentSkipListMap<>();
    private static final DirectBuffer NO_PAYLOAD = new UnsafeBuffer(new byte[0]);
    private final ThreadLocal<UnsafeBuffer> batchView = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[0]));

    final AtomicLong writeStalls = new AtomicLong();
    final AtomicLong writeStallNanos = new AtomicLong();
    final AtomicLong flushes = new AtomicLong();
    final AtomicLong compactions = new AtomicLong();
    final AtomicLong compactionBytesIn = new AtomicLong();
    final AtomicLong compactionBytesOut = new AtomicLong();
    private volatile StorageException writeRefusal;
    private volatile java.util.function.LongSupplier retentionFloor = () -> Long.MAX_VALUE;
    /**
     * The first failure after which this Db refuses writes until it is reopened (RocksDB's background error): a
     * failed WAL write or fsync, or a failed background flush or compaction. Null while healthy; never cleared,
     * because only a reopen, whose recovery reads what is really on disk, can tell what survived.
     */
    private final AtomicReference<Failure> failure = new AtomicReference<>();
    private volatile boolean closing;
    private BackgroundWork background;
    private DbRecoveryReport recoveryReport;
    private DbMBean mbean;

    /** A memtable waiting for flush, and the LSN below which it holds every change. */
    record ImmutableMemtable(Memtable memtable, long checkpointLsn) {
    }

    /** Why the Db refuses writes: what failed and what to do, in words, and the exception that said so. */
    private record Failure(String description, Throwable cause) {
    }

    private DbEngine(StorageEnv env, Path dir, DbOptions options, VersionSet versions) {
        this.env = env;
        this.dir = dir;
        this.options = options;
        this.versions = versions;
        this.tables = new TableCache(env, dir, options.blockCacheBytes());
        this.sstOptions = SstOptions.defaults().blockBytes(options.blockBytes()).compression(options.compression())
                .bloomBitsPerKey(options.bloomBitsPerKey());
        this.active = new Memtable(options.memtableBytes());
    }

    // ------------------------------------------------------------------------------------------ open

    static DbEngine open(StorageEnv env, Path dir, DbOptions options, boolean create) throws IOException {
        long started = System.nanoTime();
        env.createDirectories(dir.resolve(DbFiles.SST_DIR));
        VersionSet versions = create
                ? VersionSet.create(env, dir, options.maxLevels())
                : VersionSet.recover(env, dir, options.maxLevels(), options.readOnly());
        DbEngine engine = new DbEngine(env, dir, options, versions);
        try {
            List<String> orphans = options.readOnly() ? List.of() : engine.removeOrphans();
            engine.installSuperVersion();
            long[] counts = engine.recoverWal();
            engine.recoveryReport = new DbRecoveryReport(create, versions.checkpointLsn(), counts[0], counts[1],
                    counts[2], orphans, versions.tornManifestBytes(),
                    engine.wal != null ? engine.wal.recoveryReport()
                            : Wal.inspect(env, dir, options.recoveryMode(), versions.walDurableLsn()),
                    System.nanoTime() - started);
            engine.mbean = DbMBean.register(engine, dir);
            LOG.info("{}: {}", dir, engine.recoveryReport);
            return engine;
        } catch (IOException | RuntimeException | Error e) {
            engine.closeAfterFailedOpen();
            throw e;
        }
    }

    /** Deletes tables the manifest does not name, unfinished tables and stale manifests; returns their names. */
    private List<String> removeOrphans() throws IOException {
        List<String> removed = new ArrayList<>();
        Set<Long> live = versions.current().fileNumbers();
        Path sstDir = dir.resolve(DbFiles.SST_DIR);
        for (Path p : env.list(sstDir)) {
            long number = DbFiles.sstNumber(p);
            if (p.getFileName().toString().endsWith(DbFiles.TEMP_SUFFIX) || (number >= 0 && !live.contains(number))) {
                env.delete(p);
                removed.add(DbFiles.SST_DIR + "/" + p.getFileName());
            }
        }
        String currentManifest = DbFiles.manifestName(versions.manifestNumber());
        for (Path p : env.list(dir)) {
            String name = p.getFileName().toString();
            if ((DbFiles.manifestNumber(name) >= 0 && !name.equals(currentManifest)) || name.equals(DbFiles.CURRENT_TEMP)) {
                env.delete(p);
                removed.add(name);
            }
        }
        if (!removed.isEmpty()) {
            env.syncDirectory(sstDir);
            env.syncDirectory(dir);
        }
        return removed;
    }

    /**
     * Redo: replays every WAL record from the checkpoint into the memtable, in LSN order. Records below the
     * checkpoint are already in tables and are skipped, so replaying twice (a crash during recovery) gives the
     * same state. Returns {replayed, skipped, batches}.
     */
    private long[] recoverWal() throws IOException {
        long checkpoint = versions.checkpointLsn();
        long[] counts = new long[3];
        // Everything in the tables is visible; redo then raises this as it replays.
        visibleSequence = Math.max(maxTableSequence(), checkpoint - 1);
        if (!options.readOnly()) {
            // An empty log (a new database, or one restored from a checkpoint) starts above every sequence in
            // the tables, so new writes are newer than anything stored.
            long startIfEmpty = Math.max(checkpoint, maxTableSequence() + 1);
            long knownDurable = versions.walDurableLsn();
            wal = Wal.open(env, dir, options.walOptions().knownDurableLsn(knownDurable), this::applyRecord,
                    startIfEmpty);
            if (wal.writtenLsn() < knownDurable) {
                // A recovery mode that may drop acknowledged records cut the log below its durable end at the last
                // clean close: the log continues from the cut, so that end no longer describes it.
                VersionEdit lowered = new VersionEdit();
                lowered.walDurableLsn = wal.writtenLsn();
                versions.logAndApply(lowered);
            }
            if (wal.writtenLsn() < startIfEmpty) {
                // The log ends below the checkpoint (its recovery cut a damaged tail there, or segments were
                // lost): everything it holds is already in tables. New records must get LSNs above every
                // sequence in the tables, so the old segments are set aside in lost/ and the log restarts.
                LOG.warn("{}: the WAL ends at LSN {}, below the checkpoint {}; its segments hold nothing the tables"
                        + " lack and are moved to lost/", dir, wal.writtenLsn(), startIfEmpty);
                wal.close();
                setAsideWalBelowCheckpoint();
                wal = Wal.open(env, dir, options.walOptions(), this::applyRecord, startIfEmpty);
            }
        }
        background = new BackgroundWork(this, options);
        if (!options.readOnly()) {
            // Running during redo, so that a long log flushes as it replays instead of stalling.
            background.start();
        }
        long start = options.readOnly() ? readOnlyStart() : wal.startLsn();
        if (start > checkpoint) {
            throw new StorageException(ErrorCode.CORRUPTION, "the WAL starts at LSN " + start + " but redo must start at"
                    + " the checkpoint, LSN " + checkpoint + ": segments are missing; run `redoubt db repair " + dir + "`");
        }
        try (WalReader reader = options.readOnly()
                ? WalReader.open(env, dir.resolve(Wal.WAL_DIR), start)
                : wal.newReader(start)) {
            while (reader.next()) {
                if (reader.lsn() < checkpoint) {
                    counts[1]++;
                    continue;
                }
                counts[0]++;
                if (reader.type() == RecordType.WRITE_BATCH) {
                    counts[2]++;
                }
                applyRecord(reader.type(), reader.lsn(), reader.nextLsn(), reader.payload(), reader.payloadOffset(),
                        reader.payloadLength());
            }
        }
        return counts;
    }

    private void setAsideWalBelowCheckpoint() throws IOException {
        Path walDir = dir.resolve(Wal.WAL_DIR);
        Path lost = dir.resolve(Wal.LOST_DIR);
        env.createDirectories(lost);
        for (Path segment : env.list(walDir)) {
            env.rename(segment, lost.resolve("below-checkpoint-" + segment.getFileName()));
        }
        env.syncDirectory(lost);
        env.syncDirectory(walDir);
    }

    private long maxTableSequence() {
        long max = -1;
        Version v = versions.current();
        for (int level = 0; level < v.levelCount(); level++) {
            for (FileMeta f : v.files(level)) {
                max = Math.max(max, f.maxSequence());
            }
        }
        return max;
    }

    private long readOnlyStart() {
        RecoveryReport r = Wal.inspect(env, dir, options.recoveryMode(), versions.walDurableLsn());
        return r.segments() == 0 ? versions.checkpointLsn() : r.startLsn();
    }

    // ------------------------------------------------------------------------------------------ writes

    /** Appends the batch to the log (which applies it before acknowledging); returns its LSN. */
    long write(WriteBatch batch, Durability durability) {
        checkWritable();
        StorageException refusal = writeRefusal;
        if (refusal != null) {
            throw new StorageException(refusal.code(), refusal.getMessage());
        }
        UnsafeBuffer view = batchView.get();
        view.wrap(batch.array(), 0, batch.encodedBytes());
        return appendToWal(RecordType.WRITE_BATCH, view, batch.encodedBytes(), durability);
    }

    /** Makes every later local write fail with this error (a backup, a fenced primary); null accepts them again. */
    void refuseWrites(StorageException refusal) {
        writeRefusal = refusal;
    }

    /** A backup's append of a primary's records (see {@link Wal#appendReplicated}); they are applied as redo. */
    long appendReplicated(java.nio.ByteBuffer chunk) {
        checkWritable();
        try {
            return wal.appendReplicated(chunk);
        } catch (StorageException e) {
            if (e.code() == ErrorCode.FAILED || e.code() == ErrorCode.NO_SPACE) {
                recordFailure(e.getMessage(), e.getCause() != null ? e.getCause() : e);
            }
            throw e;
        }
    }

    Wal wal() {
        return wal;
    }

    int maxBatchBytes() {
        return options.walOptions().maxRecordBytes();
    }

    int walSegmentBytes() {
        return options.walOptions().segmentBytes();
    }

    /** WAL segments below this LSN may be deleted after a flush (replication retains what backups need). */
    void retainWalFrom(java.util.function.LongSupplier floor) {
        retentionFloor = floor;
    }

    /**
     * Appends a record and returns its LSN; a WAL that failed (it refuses every later append by itself) also
     * fails the Db, so that flushes and compactions are refused too and {@link #stats()} says why.
     */
    private long appendToWal(RecordType type, DirectBuffer payload, int length, Durability durability) {
        try {
            return wal.append(type, payload, 0, length, durability);
        } catch (StorageException e) {
            if (e.code() == ErrorCode.FAILED || e.code() == ErrorCode.NO_SPACE) {
                recordFailure(e.getMessage(), e.getCause() != null ? e.getCause() : e);
            }
            throw e;
        }
    }

    private void checkWritable() {
        if (options.readOnly()) {
            throw new StorageException(ErrorCode.INVALID_STATE, "the database was opened read-only");
        }
        if (closing) {
            throw new StorageException(ErrorCode.CLOSED, "the database is closed");
        }
        Failure f = failure.get();
        if (f != null) {
            // A full disk keeps its own code: the fix (free space, then reopen) differs from other failures.
            ErrorCode code = StorageException.isNoSpace(f.cause()) ? ErrorCode.NO_SPACE : ErrorCode.FAILED;
            throw new StorageException(code, f.description(), f.cause());
        }
    }

    /** Keeps the first failure: later ones are its consequences, and the first says what went wrong. */
    private void recordFailure(String description, Throwable cause) {
        failure.compareAndSet(null, new Failure(description, cause));
    }

    /**
     * The applier: called by the WAL leader (and by redo at open) for every record, in LSN order. Inserts a
     * batch into the active memtable with sequences {@code lsn + i}, then publishes them; switches the memtable
     * when it is full, or at a CHECKPOINT marker (an explicit flush).
     */
    void applyRecord(RecordType type, long lsn, long endLsn, DirectBuffer payload, int offset, int length) {
        if (type == RecordType.WRITE_BATCH) {
            Memtable m = active;
            int count = WriteBatchFormat.decode(payload, offset, length, lsn,
                    (i, kind, key, value) -> m.add(key, lsn + i, kind, value));
            if (count > 0) {
                visibleSequence = lsn + count - 1;
            }
            if (m.isFull()) {
                switchMemtable(endLsn);
            }
        } else if (type == RecordType.CHECKPOINT && active.entryCount() > 0) {
            switchMemtable(lsn);
        }
    }

    /**
     * Makes the active memtable immutable (it holds every change below {@code checkpointLsn}) and starts a new
     * one. Stalls, never fails, while too many memtables wait for flush.
     */
    private void switchMemtable(long checkpointLsn) {
        stateLock.lock();
        try {
            long stallStart = 0;
            while (immutables.size() >= options.maxImmutableMemtables() && failure.get() == null && !closing
                    && background != null && background.running()) {
                if (stallStart == 0) {
                    stallStart = System.nanoTime();
                    writeStalls.incrementAndGet();
                }
                background.wake();
                flushed.await(100, TimeUnit.MILLISECONDS);
            }
            if (stallStart != 0) {
                writeStallNanos.addAndGet(System.nanoTime() - stallStart);
            }
            active.markImmutable();
            immutables.add(new ImmutableMemtable(active, checkpointLsn));
            active = new Memtable(options.memtableBytes());
            installSuperVersion();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(ErrorCode.FAILED, "interrupted while stalled for a flush", e);
        } finally {
            stateLock.unlock();
        }
        if (background != null) {
            background.wake();
        }
    }

    long visibleSequence() {
        return visibleSequence;
    }

    StorageEnv env() {
        return env;
    }

    Path dir() {
        return dir;
    }

    // ------------------------------------------------------------------------------------------ super versions

    /** REQUIRES stateLock (or single-threaded open). Publishes the current memtables and version. */
    void installSuperVersion() {
        List<Memtable> imm = new ArrayList<>();
        for (int i = immutables.size() - 1; i >= 0; i--) {
            imm.add(immutables.get(i).memtable());
        }
        SuperVersion next = new SuperVersion(active, imm, versions.current());
        live.add(next);
        SuperVersion previous = current;
        current = next;
        if (previous != null) {
            release(previous);
        }
    }

    SuperVersion acquire() {
        while (true) {
            SuperVersion sv = current;
            if (sv.tryRef()) {
                return sv;
            }
        }
    }

    /** Drops a reference; the last one closes memtables and deletes tables no live view still needs. */
    void release(SuperVersion sv) {
        if (!sv.unref()) {
            return;
        }
        // Under stateLock, so that no view is being installed while we decide what nobody uses any more.
        stateLock.lock();
        try {
            cleanUp(sv);
        } finally {
            stateLock.unlock();
        }
    }

    /** REQUIRES stateLock. Closes and deletes what {@code sv} held that no live view still holds. */
    private void cleanUp(SuperVersion sv) {
        live.remove(sv);
        Set<Memtable> memtablesInUse = new HashSet<>();
        Set<Long> tablesInUse = new HashSet<>(pendingOutputs);
        for (SuperVersion other : live) {
            memtablesInUse.add(other.active);
            memtablesInUse.addAll(other.immutables);
            tablesInUse.addAll(other.version.fileNumbers());
        }
        tablesInUse.addAll(versions.current().fileNumbers());
        if (!memtablesInUse.contains(sv.active)) {
            sv.active.close();
        }
        for (Memtable m : sv.immutables) {
            if (!memtablesInUse.contains(m)) {
                m.close();
            }
        }
        for (long number : sv.version.fileNumbers()) {
            if (!tablesInUse.contains(number)) {
                deleteTable(number);
            }
        }
    }

    private void deleteTable(long number) {
        tables.evict(number);
        try {
            env.delete(DbFiles.sstPath(dir, number));
            CrashPoints.hit(CrashPoints.COMPACTION_INPUT_DELETED);
        } catch (IOException e) {
            // An undeleted obsolete table is an orphan: the next open removes it.
        }
    }

    // ------------------------------------------------------------------------------------------ reads

    /** Reads sequence number meaning "whatever is visible once the view is acquired". */
    static final long LATEST = Long.MIN_VALUE;

    /**
     * A point lookup at {@code snapshot}, or at {@link #LATEST}: then the visible sequence is read only after the
     * view is acquired. Read before, a compaction installed in between could already have dropped the versions
     * that sequence needs (it may drop whatever every sequence visible at its start can do without).
     */
    byte[] get(byte[] key, long requestedSnapshot) {
        WriteBatch.checkKey(key);
        SuperVersion sv = acquire();
        long snapshot = requestedSnapshot == LATEST ? visibleSequence : requestedSnapshot;
        try {
            Found found = sv.active.get(key, snapshot);
            for (int i = 0; found == null && i < sv.immutables.size(); i++) {
                found = sv.immutables.get(i).get(key, snapshot);
            }
            Version v = sv.version;
            for (int i = 0; found == null && i < v.files(0).size(); i++) {
                FileMeta f = v.files(0).get(i);
                if (f.contains(key) && f.minSequence() <= snapshot) {
                    found = tables.reader(f.number()).get(key, snapshot);
                }
            }
            for (int level = 1; found == null && level < v.levelCount(); level++) {
                FileMeta f = v.findInLevel(level, key);
                if (f != null && f.minSequence() <= snapshot) {
                    found = tables.reader(f.number()).get(key, snapshot);
                }
            }
            return found == null || found.kind() == EntryKind.DELETE ? null : found.value();
        } finally {
            release(sv);
        }
    }

    DbIterator scan(byte[] from, byte[] to, long requestedSnapshot) {
        SuperVersion sv = acquire();
        long snapshot = requestedSnapshot == LATEST ? visibleSequence : requestedSnapshot;
        List<EntryIterator> sources = new ArrayList<>();
        try {
            sources.add(sv.active.iterator(snapshot));
            for (Memtable m : sv.immutables) {
                sources.add(m.iterator(snapshot));
            }
            for (int level = 0; level < sv.version.levelCount(); level++) {
                for (FileMeta f : sv.version.files(level)) {
                    if (f.overlaps(from, to) && f.minSequence() <= snapshot) {
                        sources.add(tables.reader(f.number()).iterator());
                    }
                }
            }
            return new DbIterator(new MergingIterator(sources), from, to, snapshot, () -> release(sv));
        } catch (RuntimeException | Error e) {
            for (EntryIterator it : sources) {
                it.close();
            }
            release(sv);
            throw e;
        }
    }

    // ------------------------------------------------------------------------------------------ snapshots

    Snapshot newSnapshot(Db db) {
        // Under the same lock as oldestSnapshot(): a compaction either sees this snapshot or started before it
        // and so keeps everything a sequence this new can need.
        synchronized (snapshots) {
            long sequence = visibleSequence;
            snapshots.merge(sequence, 1, Integer::sum);
            return new Snapshot(db, sequence);
        }
    }

    void releaseSnapshot(long sequence) {
        synchronized (snapshots) {
            snapshots.computeIfPresent(sequence, (k, n) -> n == 1 ? null : n - 1);
        }
    }

    /** The oldest sequence any reader may still ask for: compaction keeps what it can see. */
    long oldestSnapshot() {
        synchronized (snapshots) {
            long oldest = visibleSequence;
            java.util.Map.Entry<Long, Integer> first = snapshots.firstEntry();
            return first == null ? oldest : Math.min(oldest, first.getKey());
        }
    }

    // ------------------------------------------------------------------------------------------ maintenance

    void flush() {
        checkWritable();
        StorageException refusal = writeRefusal;
        if (refusal != null) {
            // A flush logs a CHECKPOINT marker: a backup's log must hold only its primary's records.
            throw new StorageException(refusal.code(), refusal.getMessage());
        }
        // The marker goes through the log, so the switch happens at a record boundary in LSN order.
        appendToWal(RecordType.CHECKPOINT, NO_PAYLOAD, 0, Durability.SYNC);
        stateLock.lock();
        try {
            while (!immutables.isEmpty()) {
                checkWritable();
                background.wake();
                flushed.await(100, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(ErrorCode.FAILED, "interrupted while waiting for a flush", e);
        } finally {
            stateLock.unlock();
        }
    }

    void compactUntilQuiet() {
        checkWritable();
        background.compactUntilQuiet();
        checkWritable();
    }

    /** Writes an openable copy to {@code target}; returns its checkpoint LSN (every change below it is in it). */
    long checkpoint(Path target) {
        flush();
        while (true) {
            SuperVersion sv = acquire();
            try {
                long checkpointLsn;
                // The version and its checkpoint LSN must be one pair: a flush finishing in between would make
                // the LSN claim changes the copied tables lack.
                synchronized (versions) {
                    if (versions.current() != sv.version) {
                        continue;
                    }
                    checkpointLsn = versions.checkpointLsn();
                }
                return DbCheckpoint.write(env, dir, target, sv.version, checkpointLsn, versions.epoch());
            } catch (IOException e) {
                throw StorageException.fromIo("writing a checkpoint to " + target, e);
            } finally {
                release(sv);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ background

    /** Called by the flush worker: the oldest immutable memtable, or null. */
    ImmutableMemtable oldestImmutable() {
        stateLock.lock();
        try {
            return immutables.isEmpty() ? null : immutables.get(0);
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * Called after the flush of {@code done} is in the manifest: removes the WAL segments wholly below its
     * checkpoint, then drops the memtable and wakes whoever waits for the flush (so a returning
     * {@link Db#flush} has also truncated the log).
     */
    void flushCompleted(ImmutableMemtable done) {
        CrashPoints.hit(CrashPoints.FLUSH_BEFORE_WAL_TRUNCATE);
        wal.truncateBefore(Math.min(done.checkpointLsn(), retentionFloor.getAsLong()));
        stateLock.lock();
        try {
            immutables.remove(0);
            installSuperVersion();
            flushes.incrementAndGet();
            flushed.signalAll();
        } finally {
            stateLock.unlock();
        }
    }

    /** Called after a compaction's edit is in the manifest. */
    void versionChanged() {
        stateLock.lock();
        try {
            installSuperVersion();
        } finally {
            stateLock.unlock();
        }
    }

    /** Called by a background worker that failed: the Db refuses writes from now on, saying why. */
    void backgroundFailed(Throwable e) {
        String what = "a background flush or compaction failed";
        // A bare IOException (the manifest's, a rename's) goes through the one choke point, so a full disk says so.
        String description = e instanceof IOException io ? StorageException.fromIo(what, io).getMessage()
                : what + ": " + (e instanceof StorageException ? e.getMessage() : e.toString());
        recordFailure(description + (description.endsWith(".") ? "" : ".") + " The database refuses writes until it"
                + " is reopened; recovery keeps every acknowledged write", e);
        stateLock.lock();
        try {
            flushed.signalAll();
        } finally {
            stateLock.unlock();
        }
    }

    /** Why the Db refuses writes, or null while it accepts them. */
    String failure() {
        Failure f = failure.get();
        return f == null ? null : f.description();
    }

    boolean closing() {
        return closing;
    }

    DbRecoveryReport recoveryReport() {
        return recoveryReport;
    }

    DbStats stats() {
        SuperVersion sv = acquire();
        try {
            List<Integer> files = new ArrayList<>();
            List<Long> bytes = new ArrayList<>();
            for (int level = 0; level < sv.version.levelCount(); level++) {
                files.add(sv.version.files(level).size());
                bytes.add(sv.version.levelBytes(level));
            }
            long memBytes = sv.active.memoryBytes();
            for (Memtable m : sv.immutables) {
                memBytes += m.memoryBytes();
            }
            long walBytes = wal == null ? 0 : Math.max(0, wal.writtenLsn() - wal.startLsn());
            return new DbStats(files, bytes, memBytes, sv.immutables.size(), walBytes, writeStalls.get(),
                    writeStallNanos.get(), tables.blockCache().hits(), tables.blockCache().misses(), flushes.get(),
                    compactions.get(), compactionBytesIn.get(), compactionBytesOut.get(), visibleSequence,
                    wal == null ? 0 : wal.writtenLsn(), wal == null ? 0 : wal.durableLsn(), versions.checkpointLsn(),
                    failure());
        } finally {
            release(sv);
        }
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        stateLock.lock();
        try {
            flushed.signalAll();
        } finally {
            stateLock.unlock();
        }
        try {
            if (background != null) {
                background.stop();
            }
            if (wal != null) {
                wal.close();
                recordWalDurableEnd();
            }
        } finally {
            shutdownResources();
        }
    }

    /**
     * After a clean close, logs the WAL's durable end in the manifest. The log's last records have no later record
     * whose durable LSN proves them acknowledged, so without this a damaged last record would be dropped as if it
     * were a torn write; with it, recovery refuses the damage (docs/formats/wal.md). Skipped after a failure: a
     * failed Db writes nothing more, and the next open decides from what the log itself proves.
     */
    private void recordWalDurableEnd() {
        if (options.readOnly() || failure.get() != null || wal.stats().failed()) {
            return;
        }
        VersionEdit edit = new VersionEdit();
        edit.walDurableLsn = wal.durableLsn();
        try {
            versions.logAndApply(edit);
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: could not record the WAL's durable end in the manifest; its last records stay unproven",
                    dir, e);
        }
    }

    private void closeAfterFailedOpen() {
        closing = true;
        try {
            if (background != null) {
                background.stop();
            }
            if (wal != null) {
                wal.close();
            }
        } catch (RuntimeException ignored) {
            // already failing
        } finally {
            shutdownResources();
        }
    }

    private void shutdownResources() {
        if (mbean != null) {
            mbean.unregister();
        }
        Set<Memtable> memtables = new HashSet<>();
        for (SuperVersion s : new ArrayList<>(live)) {
            memtables.add(s.active);
            memtables.addAll(s.immutables);
        }
        memtables.add(active);
        for (Memtable m : memtables) {
            m.close();
        }
        tables.close();
        try {
            versions.close();
        } catch (IOException ignored) {
            // the manifest is fsynced after every edit; nothing is pending
        }
    }
}
