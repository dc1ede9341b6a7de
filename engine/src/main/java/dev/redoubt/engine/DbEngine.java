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
import dev.redoubt.wal.Wal;
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
 * The state and mechanics behind {@link Db}: memtables, the applier the WAL leader calls, stalls, snapshots,
 * reads and maintenance. Beside it, each with one job: {@link DbRecovery} (opening, in numbered passes),
 * {@link SuperVersions} (the views readers hold, reference-counted) and {@link BackgroundWork} with
 * {@link Compactor} (flush and compaction, which reach the engine only through {@link BackgroundHost}).
 *
 * <p>Locking: {@code stateLock} guards the memtable list and the installation of super versions;
 * {@code flushed} (its condition) wakes stalled writers and flush waiters. The applier runs on the WAL's leader
 * thread, one record at a time, in LSN order: it is the memtable's only writer.
 */
final class DbEngine implements AutoCloseable, BackgroundHost {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DbEngine.class);

    private final StorageEnv env;
    private final Path dir;
    private final DbOptions options;
    private final VersionSet versions;
    private final TableCache tables;
    private final SstOptions sstOptions;
    private Wal wal;

    private final ReentrantLock stateLock = new ReentrantLock();
    private final Condition flushed = stateLock.newCondition();
    /** REQUIRES stateLock to change. Oldest first; each with the checkpoint LSN its flush will record. */
    private final List<ImmutableMemtable> immutables = new ArrayList<>();
    private Memtable active;
    private final SuperVersions views = new SuperVersions(stateLock, new SuperVersions.Owner() {
        @Override
        public Set<Long> tablesOutsideViews() {
            return DbEngine.this.tablesOutsideViews();
        }

        @Override
        public void deleteTable(long number) {
            DbEngine.this.deleteTable(number);
        }
    });
    private final Set<Long> pendingOutputs = ConcurrentHashMap.newKeySet();

    private volatile long visibleSequence = -1;
    private final ConcurrentSkipListMap<Long, Integer> snapshots = new ConcurrentSkipListMap<>();
    private static final DirectBuffer NO_PAYLOAD = new UnsafeBuffer(new byte[0]);
    private final ThreadLocal<UnsafeBuffer> batchView = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[0]));

    private final AtomicLong writeStalls = new AtomicLong();
    private final AtomicLong writeStallNanos = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong compactions = new AtomicLong();
    private final AtomicLong compactionBytesIn = new AtomicLong();
    private final AtomicLong compactionBytesOut = new AtomicLong();
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
        env.createDirectories(dir.resolve(DbFiles.SST_DIR));
        VersionSet versions = create
                ? VersionSet.create(env, dir, options.maxLevels())
                : VersionSet.recover(env, dir, options.maxLevels(), options.readOnly());
        DbEngine engine = new DbEngine(env, dir, options, versions);
        try {
            engine.background = new BackgroundWork(engine, options); // its threads start after recovery
            engine.recoveryReport = DbRecovery.run(engine, env, dir, options, create);
            if (!options.readOnly()) {
                engine.background.start();
            }
            engine.mbean = DbMBean.register(engine, dir);
            LOG.info("{}: {}", dir, engine.recoveryReport);
            return engine;
        } catch (IOException | RuntimeException | Error e) {
            engine.closeAfterFailedOpen();
            throw e;
        }
    }

    /** Recovery's pass 2: everything in the tables is visible; the first view is published. */
    void publishTablesAtOpen() {
        visibleSequence = Math.max(maxTableSequence(), versions.checkpointLsn() - 1);
        stateLock.lock();
        try {
            installSuperVersion();
        } finally {
            stateLock.unlock();
        }
    }

    /** Recovery's pass 3: the log this engine appends to from now on. */
    void attachWal(Wal opened) {
        this.wal = opened;
    }

    /**
     * During redo (no background threads yet): flushes the oldest memtables on this thread while more wait than
     * the options allow, as the flush thread would.
     */
    void flushWhileTooManyImmutables() throws IOException {
        while (immutableCount() >= options.maxImmutableMemtables()) {
            try {
                background.flushOneNow();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("flushing a memtable during recovery", e);
            }
        }
    }

    private int immutableCount() {
        stateLock.lock();
        try {
            return immutables.size();
        } finally {
            stateLock.unlock();
        }
    }

    /** The largest sequence in any table, or -1. */
    long maxTableSequence() {
        long max = -1;
        Version v = versions.current();
        for (int level = 0; level < v.levelCount(); level++) {
            for (FileMeta f : v.files(level)) {
                max = Math.max(max, f.maxSequence());
            }
        }
        return max;
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
    /** Used by {@link #applyRecord} only, which is called one record at a time. */
    private final BatchApplier batchApplier = new BatchApplier();

    void applyRecord(RecordType type, long lsn, long endLsn, DirectBuffer payload, int offset, int length) {
        if (type == RecordType.WRITE_BATCH) {
            Memtable m = active;
            int count = batchApplier.apply(m, payload, offset, length, lsn);
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

    /** REQUIRES stateLock. Publishes the current memtables and version. */
    private void installSuperVersion() {
        assert stateLock.isHeldByCurrentThread() : "REQUIRES stateLock";
        List<Memtable> imm = new ArrayList<>();
        for (int i = immutables.size() - 1; i >= 0; i--) {
            imm.add(immutables.get(i).memtable());
        }
        views.install(new SuperVersion(active, imm, versions.current()));
    }

    /** For {@link SuperVersions}: REQUIRES stateLock. */
    private Set<Long> tablesOutsideViews() {
        assert stateLock.isHeldByCurrentThread() : "REQUIRES stateLock";
        Set<Long> tables = new HashSet<>(pendingOutputs);
        tables.addAll(versions.current().fileNumbers());
        return tables;
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
        SuperVersion sv = views.acquire();
        long snapshot = requestedSnapshot == LATEST ? visibleSequence : requestedSnapshot;
        try {
            return find(sv, key, snapshot);
        } finally {
            views.release(sv);
        }
    }

    /**
     * The values of {@code keys} (null where absent), all read at one snapshot through one view: a batch written
     * meanwhile is seen whole or not at all. {@link #LATEST} is resolved as for {@link #get}.
     */
    List<byte[]> multiGet(List<byte[]> keys, long requestedSnapshot) {
        for (byte[] key : keys) {
            WriteBatch.checkKey(key);
        }
        SuperVersion sv = views.acquire();
        long snapshot = requestedSnapshot == LATEST ? visibleSequence : requestedSnapshot;
        try {
            List<byte[]> values = new ArrayList<>(keys.size());
            for (byte[] key : keys) {
                values.add(find(sv, key, snapshot));
            }
            return values;
        } finally {
            views.release(sv);
        }
    }

    /** The value of {@code key} at {@code snapshot} in the view {@code sv}: memtables newest first, then levels. */
    private byte[] find(SuperVersion sv, byte[] key, long snapshot) {
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
    }

    DbIterator scan(byte[] from, byte[] to, long requestedSnapshot) {
        SuperVersion sv = views.acquire();
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
            return new DbIterator(new MergingIterator(sources), from, to, snapshot, () -> views.release(sv));
        } catch (RuntimeException | Error e) {
            for (EntryIterator it : sources) {
                it.close();
            }
            views.release(sv);
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
    @Override
    public long oldestSnapshot() {
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
            SuperVersion sv = views.acquire();
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
                views.release(sv);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ background

    @Override
    public VersionSet versions() {
        return versions;
    }

    @Override
    public TableCache tables() {
        return tables;
    }

    @Override
    public TableFiles newTableFiles() {
        return new TableFiles(env, dir, sstOptions, versions::newFileNumber, pendingOutputs);
    }

    @Override
    public void releaseOutput(long tableNumber) {
        pendingOutputs.remove(tableNumber);
    }

    @Override
    public void compactionCompleted(long bytesIn, long bytesOut) {
        compactionBytesIn.addAndGet(bytesIn);
        compactionBytesOut.addAndGet(bytesOut);
        compactions.incrementAndGet();
    }

    /** Called by the flush worker: the oldest immutable memtable, or null. */
    @Override
    public ImmutableMemtable oldestImmutable() {
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
    @Override
    public void flushCompleted(ImmutableMemtable done) {
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
    @Override
    public void versionChanged() {
        stateLock.lock();
        try {
            installSuperVersion();
        } finally {
            stateLock.unlock();
        }
    }

    /** Called by a background worker that failed: the Db refuses writes from now on, saying why. */
    @Override
    public void backgroundFailed(Throwable e) {
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

    @Override
    public boolean closing() {
        return closing;
    }

    DbRecoveryReport recoveryReport() {
        return recoveryReport;
    }

    DbStats stats() {
        SuperVersion sv = views.acquire();
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
            views.release(sv);
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
        Set<Memtable> memtables = views.liveMemtables();
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

    /**
     * Inserts a batch's operations straight from the log's buffer into a memtable, with sequences {@code lsn + i}:
     * one instance reused for every record, so applying a batch allocates nothing. Not thread-safe: the applier
     * runs one record at a time.
     */
    private static final class BatchApplier implements WriteBatchFormat.SliceHandler {
        private Memtable memtable;
        private long lsn;

        int apply(Memtable m, DirectBuffer payload, int offset, int length, long batchLsn) {
            memtable = m;
            lsn = batchLsn;
            try {
                return WriteBatchFormat.decodeSlices(payload, offset, length, batchLsn, this);
            } finally {
                memtable = null;
            }
        }

        @Override
        public void op(int index, EntryKind kind, DirectBuffer buffer, int keyOffset, int keyLength, int valueOffset,
                       int valueLength) {
            memtable.add(buffer, keyOffset, keyLength, lsn + index, kind, valueOffset, valueLength);
        }
    }
}
