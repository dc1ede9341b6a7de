package dev.redoubt.engine;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Brings an engine from its files to the state its last acknowledged write left, in numbered passes (LevelDB's
 * {@code DBImpl::Recover}), and says what it did in a {@link DbRecoveryReport}. It starts no threads: a memtable
 * that fills during redo is flushed on the calling thread, and the engine starts its background work only once
 * recovery returned.
 *
 * <ol>
 *   <li><b>Orphans</b> (writable only): tables the manifest does not name, unfinished tables and stale manifests
 *       are deleted (a crash in a flush, a compaction or a manifest switch leaves them).</li>
 *   <li><b>Tables</b>: the manifest's version is published to readers, with an empty memtable; everything in the
 *       tables is visible.</li>
 *   <li><b>Log</b> (writable only): the WAL is opened with the engine's applier. If a recovery mode that may
 *       drop acknowledged records cut it below the durable end a clean close recorded, the manifest's end is
 *       lowered to the cut. If it ends below the checkpoint, everything it holds is already in tables: its
 *       segments are set aside in {@code lost/} and it restarts above every sequence in the tables.</li>
 *   <li><b>Redo</b>: every record from the checkpoint on is applied in LSN order; records below the checkpoint
 *       are in tables and are skipped, so a crash during recovery and a second recovery give the same state.
 *       When more memtables wait for flush than the options allow, the oldest is flushed here.</li>
 * </ol>
 */
final class DbRecovery {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DbRecovery.class);

    private final DbEngine engine;
    private final StorageEnv env;
    private final Path dir;
    private final DbOptions options;
    private final VersionSet versions;

    private DbRecovery(DbEngine engine, StorageEnv env, Path dir, DbOptions options) {
        this.engine = engine;
        this.env = env;
        this.dir = dir;
        this.options = options;
        this.versions = engine.versions();
    }

    /** Runs every pass on {@code engine}, freshly made on {@code dir}'s manifest; {@code created}: a new database. */
    static DbRecoveryReport run(DbEngine engine, StorageEnv env, Path dir, DbOptions options, boolean created)
            throws IOException {
        long started = System.nanoTime();
        DbRecovery r = new DbRecovery(engine, env, dir, options);
        List<String> orphans = options.readOnly() ? List.of() : r.removeOrphans();   // pass 1
        engine.publishTablesAtOpen();                                                  // pass 2
        Wal wal = options.readOnly() ? null : r.openLog();                            // pass 3
        long[] counts = r.redo(wal);                                                  // pass 4
        return new DbRecoveryReport(created, r.versions.checkpointLsn(), counts[0], counts[1], counts[2], orphans,
                r.versions.tornManifestBytes(), wal != null ? wal.recoveryReport()
                        : Wal.inspect(env, dir, options.recoveryMode(), r.versions.walDurableLsn()),
                System.nanoTime() - started);
    }

    /** Pass 1: deletes tables the manifest does not name, unfinished tables and stale manifests; their names. */
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

    /** Pass 3: opens the log for writing, attached to the engine. */
    private Wal openLog() throws IOException {
        long checkpoint = versions.checkpointLsn();
        // An empty log (a new database, or one restored from a checkpoint) starts above every sequence in the
        // tables, so new writes are newer than anything stored.
        long startIfEmpty = Math.max(checkpoint, engine.maxTableSequence() + 1);
        long knownDurable = versions.walDurableLsn();
        Wal wal = Wal.open(env, dir, options.walOptions().knownDurableLsn(knownDurable), engine::applyRecord,
                startIfEmpty);
        if (wal.writtenLsn() < knownDurable) {
            // A recovery mode that may drop acknowledged records cut the log below its durable end at the last
            // clean close: the log continues from the cut, so that end no longer describes it.
            VersionEdit lowered = new VersionEdit();
            lowered.walDurableLsn = wal.writtenLsn();
            versions.logAndApply(lowered);
        }
        if (wal.writtenLsn() < startIfEmpty) {
            // The log ends below the checkpoint (its recovery cut a damaged tail there, or segments were lost):
            // everything it holds is already in tables. New records must get LSNs above every sequence in the
            // tables, so the old segments are set aside in lost/ and the log restarts.
            LOG.warn("{}: the WAL ends at LSN {}, below the checkpoint {}; its segments hold nothing the tables lack"
                    + " and are moved to lost/", dir, wal.writtenLsn(), startIfEmpty);
            wal.close();
            setAsideWalBelowCheckpoint();
            wal = Wal.open(env, dir, options.walOptions(), engine::applyRecord, startIfEmpty);
        }
        engine.attachWal(wal);
        return wal;
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

    /**
     * Pass 4: replays every record from the checkpoint into the memtable, in LSN order (read-only: straight from
     * the files). Returns {replayed, skipped, batches}.
     */
    private long[] redo(Wal wal) throws IOException {
        long checkpoint = versions.checkpointLsn();
        long[] counts = new long[3];
        long start = wal == null ? readOnlyStart() : wal.startLsn();
        if (start > checkpoint) {
            throw new StorageException(ErrorCode.CORRUPTION, "the WAL starts at LSN " + start + " but redo must start at"
                    + " the checkpoint, LSN " + checkpoint + ": segments are missing; run `redoubt db repair " + dir + "`");
        }
        try (WalReader reader = wal == null
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
                engine.applyRecord(reader.type(), reader.lsn(), reader.nextLsn(), reader.payload(),
                        reader.payloadOffset(), reader.payloadLength());
                if (wal != null) {
                    engine.flushWhileTooManyImmutables();
                }
            }
        }
        return counts;
    }

    private long readOnlyStart() {
        RecoveryReport r = Wal.inspect(env, dir, options.recoveryMode(), versions.walDurableLsn());
        return r.segments() == 0 ? versions.checkpointLsn() : r.startLsn();
    }
}
