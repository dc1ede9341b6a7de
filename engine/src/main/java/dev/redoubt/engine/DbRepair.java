package dev.redoubt.engine;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.sstable.BlockCache;
import dev.redoubt.sstable.MergingIterator;
import dev.redoubt.sstable.SstOptions;
import dev.redoubt.sstable.SstProperties;
import dev.redoubt.sstable.SstReader;
import dev.redoubt.wal.RecordFile;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code redoubt db repair}: salvages a damaged data directory. Nothing is ever deleted: every file it does not
 * keep is moved to {@code lost/} with the reason in the report. The passes:
 * <ol>
 *   <li>take the directory's lock (a live process keeps it: repair refuses);</li>
 *   <li>read the manifest CURRENT names; if it reads cleanly it decides the level of every table
 *       (<em>manifest mode</em>), otherwise every table is rebuilt (<em>rebuild mode</em>, below);</li>
 *   <li>open and fully verify every table in {@code sst/}; move unreadable ones, unfinished ones and (in
 *       manifest mode) ones the manifest does not name to {@code lost/};</li>
 *   <li>rebuild mode: merge every readable table into new tables at level 1 (a version found in two tables, as
 *       after an interrupted compaction, is kept once) and move the originals to {@code lost/};</li>
 *   <li>choose the checkpoint: above every sequence in the kept tables, never below the old checkpoint, and not
 *       below the WAL's first LSN (a WAL that ends below it is moved to {@code lost/}: its records are in
 *       tables or gone);</li>
 *   <li>write a new manifest, switch CURRENT to it, move the old manifests to {@code lost/};</li>
 *   <li>open the database once with the chosen WAL mode ({@link RecoveryMode#SKIP_CORRUPTED} keeps every
 *       readable record, {@link RecoveryMode#POINT_IN_TIME} a consistent prefix): the WAL's own recovery
 *       quarantines what it drops, and the open proves the result is a database again.</li>
 * </ol>
 * Without a manifest, data deleted since the last open (a table made obsolete whose deletion a crash cut short)
 * may reappear; the report says when it rebuilt.
 *
 * <p>Not thread-safe; one repair at a time per directory (the lock enforces it across processes).
 */
public final class DbRepair {
    private static final long TARGET_TABLE_BYTES = 32L * 1024 * 1024;

    private DbRepair() {
    }

    /** Receives progress: {@code done} of {@code total} units (bytes of tables) of the phase named. */
    public interface Listener {
        Listener NONE = (phase, done, total) -> { };

        void progress(String phase, long done, long total);
    }

    /** A file set aside under {@code lost/}. */
    public record Moved(String file, String movedTo, String reason) {
    }

    /** A table the new manifest names. */
    public record Kept(int level, FileMeta table) {
    }

    /**
     * What a repair did.
     *
     * @param manifestUsed   the old manifest the table levels came from, or null (rebuild mode)
     * @param manifestProblem why no manifest was usable (null in manifest mode)
     * @param newManifest    the manifest CURRENT names now
     * @param kept           tables in the new manifest
     * @param moved          files moved to {@code lost/}, with the reason
     * @param lost           data that is gone, in words (empty: nothing was lost)
     * @param checkpointLsn  the new manifest's checkpoint
     * @param epoch          the new manifest's epoch
     * @param walPlan        what the WAL recovery was going to drop (dry run before the open)
     * @param open           what the trial open found and replayed
     */
    public record Report(String manifestUsed, String manifestProblem, String newManifest, List<Kept> kept,
                         List<Moved> moved, List<String> lost, long checkpointLsn, long epoch,
                         RecoveryReport walPlan, DbRecoveryReport open) {

        /** Whether something that held data could not be kept. */
        public boolean dataLost() {
            return !lost.isEmpty();
        }
    }

    /**
     * Repairs {@code dir}. {@code walMode} must be {@link RecoveryMode#SKIP_CORRUPTED} or
     * {@link RecoveryMode#POINT_IN_TIME} (the modes that never refuse).
     *
     * @throws StorageException {@link ErrorCode#LOCKED} when a live process holds the directory; whatever the
     *                          final open throws when the result still does not open
     */
    public static Report repair(StorageEnv env, Path dir, RecoveryMode walMode, Listener listener) {
        if (walMode != RecoveryMode.SKIP_CORRUPTED && walMode != RecoveryMode.POINT_IN_TIME) {
            throw new IllegalArgumentException("repair's WAL mode must be SKIP_CORRUPTED or POINT_IN_TIME, got " + walMode);
        }
        try (AutoCloseable lock = env.lock(dir.resolve(DbFiles.LOCK))) {
            return new Run(env, dir, walMode, listener).run();
        } catch (StorageException e) {
            throw e;
        } catch (IOException e) {
            throw StorageException.fromIo("repairing " + dir, e);
        } catch (Exception e) {
            throw new StorageException(ErrorCode.IO, "repairing " + dir + ": " + e, e);
        }
    }

    /** The state of one repair. */
    private static final class Run {
        private final StorageEnv env;
        private final Path dir;
        private final RecoveryMode walMode;
        private final Listener listener;
        private final int maxLevels = DbOptions.defaults().maxLevels();
        private final List<Moved> moved = new ArrayList<>();
        private final List<String> lost = new ArrayList<>();
        private long maxNumberSeen;

        Run(StorageEnv env, Path dir, RecoveryMode walMode, Listener listener) {
            this.env = env;
            this.dir = dir;
            this.walMode = walMode;
            this.listener = listener;
        }

        Report run() throws IOException {
            env.createDirectories(dir.resolve(DbFiles.SST_DIR));
            DbInspector.DirFiles files = DbInspector.files(env, dir);
            for (String m : files.manifests()) {
                maxNumberSeen = Math.max(maxNumberSeen, DbFiles.manifestNumber(m));
            }
            DbInspector.Manifest manifest = null;
            String manifestProblem = null;
            if (files.current() == null) {
                manifestProblem = files.currentProblem() != null ? files.currentProblem() : "CURRENT is missing";
            } else {
                try {
                    manifest = DbInspector.readManifest(env, dir, files.current(), maxLevels);
                    maxNumberSeen = Math.max(maxNumberSeen, manifest.nextFileNumber() - 1);
                } catch (StorageException e) {
                    manifestProblem = e.getMessage();
                }
            }
            for (String temp : files.tempFiles()) {
                moveToLost(temp, "unfinished file of an interrupted flush, compaction or CURRENT switch");
            }
            Map<Long, Readable> readable = checkTables(files.tables(), manifest);
            List<Kept> kept = manifest != null ? keepByManifest(manifest, readable) : rebuild(readable);

            long maxSequence = -1;
            for (Kept k : kept) {
                maxSequence = Math.max(maxSequence, k.table().maxSequence());
            }
            long checkpoint = Math.max(manifest != null ? manifest.checkpointLsn() : 0, maxSequence + 1);
            RecoveryReport walPlan = Wal.inspect(env, dir, walMode);
            long epoch = Math.max(manifest != null ? manifest.epoch() : 0, walPlan.lastEpoch());
            checkpoint = reconcileWal(walPlan, checkpoint);

            String newManifest = writeManifest(kept, checkpoint, epoch);
            for (String m : files.manifests()) {
                moveToLost(m, "replaced by " + newManifest + " (kept for reference)");
            }
            DbRecoveryReport open;
            try (DbEngine engine = DbEngine.open(env, dir, DbOptions.defaults().recoveryMode(walMode), false)) {
                open = engine.recoveryReport();
            }
            if (open.wal().bytesDropped() > 0) {
                lost.add(open.wal().bytesDropped() + " WAL bytes dropped by " + walMode + " (copied to lost/): "
                        + open.wal().dropped());
            }
            return new Report(manifest != null ? manifest.name() : null, manifestProblem, newManifest, kept,
                    List.copyOf(moved), List.copyOf(lost), checkpoint, epoch, walPlan, open);
        }

        /** A table that opened and verified, with its properties. */
        private record Readable(Path path, long number, SstProperties properties) {
            FileMeta meta() {
                return new FileMeta(number, properties.fileBytes(), properties.smallestKey(), properties.largestKey(),
                        properties.minSequence(), properties.maxSequence(), properties.entryCount());
            }
        }

        private Map<Long, Readable> checkTables(List<Path> tables, DbInspector.Manifest manifest) throws IOException {
            long total = 0;
            for (Path p : tables) {
                total += java.nio.file.Files.size(p);
            }
            Set<Long> named = manifest == null ? Set.of() : DbInspector.liveTableNumbers(manifest);
            Map<Long, Readable> readable = new TreeMap<>();
            long done = 0;
            for (Path p : tables) {
                long number = DbFiles.sstNumber(p);
                maxNumberSeen = Math.max(maxNumberSeen, number);
                String name = DbFiles.SST_DIR + "/" + p.getFileName();
                long size = java.nio.file.Files.size(p);
                listener.progress("verify tables", done, total);
                try (SstReader reader = SstReader.open(env, p, new BlockCache(0))) {
                    reader.verify();
                    if (manifest != null && !named.contains(number)) {
                        moveToLost(name, "not named by the manifest: output of an interrupted flush or compaction,"
                                + " or a table already replaced; its data is in the WAL or in live tables");
                    } else {
                        readable.put(number, new Readable(p, number, reader.properties()));
                    }
                } catch (StorageException e) {
                    if (e.code() != ErrorCode.CORRUPTION) {
                        throw e;
                    }
                    moveToLost(name, "unreadable: " + e.getMessage());
                    lost.add("table " + name + " (" + size + " bytes) is unreadable; its entries are lost");
                }
                done += size;
            }
            listener.progress("verify tables", total, total);
            return readable;
        }

        private List<Kept> keepByManifest(DbInspector.Manifest manifest, Map<Long, Readable> readable) {
            List<Kept> kept = new ArrayList<>();
            for (int level = 0; level < manifest.levels().size(); level++) {
                for (FileMeta f : manifest.levels().get(level)) {
                    Readable r = readable.get(f.number());
                    if (r != null) {
                        kept.add(new Kept(level, r.meta()));
                    } else if (!env.exists(DbFiles.sstPath(dir, f.number()))) {
                        boolean movedNow = moved.stream().anyMatch(m -> m.file().endsWith(
                                DbFiles.sstPath(dir, f.number()).getFileName().toString()));
                        if (!movedNow) {
                            lost.add("table " + f.number() + " (level " + level + ", " + f.entries()
                                    + " entries) named by the manifest is missing; its entries are lost");
                        }
                    }
                }
            }
            return kept;
        }

        /** Rebuild mode: one sorted merge of every readable table, each version once, into new level-1 tables. */
        private List<Kept> rebuild(Map<Long, Readable> readable) throws IOException {
            if (readable.isEmpty()) {
                return List.of();
            }
            long[] next = {maxNumberSeen + 1};
            TableFiles out = new TableFiles(env, dir, SstOptions.defaults(), () -> next[0]++, new HashSet<>());
            List<SstReader> readers = new ArrayList<>();
            List<EntryIterator> sources = new ArrayList<>();
            List<Kept> kept = new ArrayList<>();
            long total = 0;
            for (Readable r : readable.values()) {
                total += r.properties().entryCount();
            }
            try {
                for (Readable r : readable.values()) {
                    SstReader reader = SstReader.open(env, r.path(), new BlockCache(0));
                    readers.add(reader);
                    sources.add(reader.iterator());
                }
                long done = 0;
                try (EntryIterator it = new MergingIterator(sources)) {
                    byte[] previousKey = null;
                    long previousSequence = -1;
                    for (it.seekToFirst(); it.valid(); it.next()) {
                        byte[] key = it.key();
                        boolean sameKey = previousKey != null && Arrays.equals(key, previousKey);
                        if ((++done & 0xFFFF) == 0) {
                            listener.progress("rebuild tables", done, total);
                        }
                        if (sameKey && it.sequence() == previousSequence) {
                            continue; // the same version in two tables (compaction input and output)
                        }
                        if (!sameKey && out.isOpen() && out.bytesAdded() >= TARGET_TABLE_BYTES) {
                            kept.add(new Kept(1, out.finish()));
                        }
                        out.add(key, it.sequence(), it.kind(), it.value());
                        previousKey = key.clone();
                        previousSequence = it.sequence();
                    }
                }
                if (out.isOpen()) {
                    kept.add(new Kept(1, out.finish()));
                }
                listener.progress("rebuild tables", total, total);
            } catch (IOException | RuntimeException e) {
                out.abandon();
                throw e;
            } finally {
                for (SstReader r : readers) {
                    r.close();
                }
            }
            maxNumberSeen = next[0] - 1;
            for (Readable r : readable.values()) {
                moveToLost(DbFiles.SST_DIR + "/" + r.path().getFileName(), "superseded by the rebuilt tables");
            }
            return kept;
        }

        /** Makes the WAL and the checkpoint agree; returns the checkpoint to record. */
        private long reconcileWal(RecoveryReport wal, long checkpoint) throws IOException {
            if (wal.segments() == 0) {
                return checkpoint;
            }
            if (wal.endLsn() < checkpoint) {
                for (DbInspector.Segment s : DbInspector.files(env, dir).segments()) {
                    moveToLost(Wal.WAL_DIR + "/" + s.name(), "the WAL ends at LSN " + wal.endLsn()
                            + ", below the checkpoint LSN " + checkpoint + ": its records are in tables or lost");
                }
                return checkpoint;
            }
            if (wal.startLsn() > checkpoint) {
                lost.add("WAL records from LSN " + checkpoint + " to " + wal.startLsn() + " are missing (deleted or lost"
                        + " segments); redo starts at LSN " + wal.startLsn());
                return wal.startLsn();
            }
            return checkpoint;
        }

        private String writeManifest(List<Kept> kept, long checkpoint, long epoch) throws IOException {
            long number = maxNumberSeen + 1;
            VersionEdit edit = new VersionEdit();
            for (Kept k : kept) {
                edit.addFile(k.level(), k.table());
            }
            new Version(maxLevels).apply(edit); // checks the levels before anything is written
            edit.checkpointLsn = checkpoint;
            edit.nextFileNumber = number + 1;
            edit.epoch = epoch;
            String name = DbFiles.manifestName(number);
            try (RecordFile manifest = RecordFile.create(env, dir.resolve(name))) {
                VersionSet.writeManifestAndSwitch(manifest, env, dir, name, edit);
            }
            return name;
        }

        /** Moves {@code relative} (a path under the directory) to {@code lost/}, under a name not yet taken. */
        private void moveToLost(String relative, String reason) throws IOException {
            Path lostDir = dir.resolve(Wal.LOST_DIR);
            env.createDirectories(lostDir);
            String base = "repair-" + relative.replace('/', '-');
            Path target = lostDir.resolve(base);
            for (int i = 1; env.exists(target); i++) {
                target = lostDir.resolve(base + "." + i);
            }
            Path source = dir.resolve(relative);
            env.rename(source, target);
            env.syncDirectory(lostDir);
            env.syncDirectory(source.getParent());
            moved.add(new Moved(relative, Wal.LOST_DIR + "/" + target.getFileName(), reason));
        }
    }
}
