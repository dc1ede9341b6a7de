package dev.redoubt.engine;

import dev.redoubt.common.EntryKind;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.wal.RecordFile;
import dev.redoubt.wal.SegmentFiles;
import dev.redoubt.wal.Wal;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A read-only view of a data directory for tools ({@code redoubt db inspect}, {@code db verify}, {@code db repair}):
 * what CURRENT names, what the manifest says (checkpoint LSN, epoch, live tables per level), which WAL segments
 * and other files are there. Unlike {@link Db#open} it changes nothing: it never rewrites the manifest (the
 * open does, see {@link VersionSet}), never removes orphans and takes no lock. Pass it a {@link StorageEnv} that
 * refuses writes to have that checked.
 *
 * <p>Stateless and thread-safe.
 */
public final class DbInspector {
    /** Name of the lock file a live {@link Db} holds. */
    public static final String LOCK_FILE = DbFiles.LOCK;
    public static final String CURRENT_FILE = DbFiles.CURRENT;
    public static final String SST_DIR = DbFiles.SST_DIR;

    private DbInspector() {
    }

    /** What a directory is, decided from names alone. */
    public enum Kind {
        /** The path does not exist. */
        MISSING,
        /** The path exists and is not a directory. */
        NOT_A_DIRECTORY,
        /** An empty directory. */
        EMPTY,
        /** A database: CURRENT is there. */
        DATABASE,
        /** A database that lost its CURRENT (a manifest, {@code wal/} or {@code sst/} is there): repair it. */
        DATABASE_WITHOUT_CURRENT,
        /** Something else. */
        NOT_A_DATABASE
    }

    /** One WAL segment file: its name, the LSN of its first byte and its size on disk. */
    public record Segment(String name, long baseLsn, long fileBytes) {
    }

    /**
     * What one manifest holds once every edit is applied.
     *
     * @param name           file name ({@code MANIFEST-<n>})
     * @param edits          edits read
     * @param tornBytes      bytes of an unfinished last edit (an append a crash cut short; ignored by an open)
     * @param checkpointLsn  every change with a sequence below it is in tables
     * @param nextFileNumber file numbers at or above it were never handed out
     * @param epoch          replication epoch
     * @param levels         live tables per level (level 0 newest first, deeper levels by key)
     * @param walDurableLsn  every WAL byte below it was fsynced at the last clean close (0: not recorded)
     */
    public record Manifest(String name, int edits, long tornBytes, long checkpointLsn, long nextFileNumber,
                           long epoch, List<List<FileMeta>> levels, long walDurableLsn) {

        /** Every live table, level by level. */
        public List<FileMeta> tables() {
            List<FileMeta> all = new ArrayList<>();
            levels.forEach(all::addAll);
            return all;
        }

        /** The level of table {@code number}, or -1. */
        public int levelOf(long number) {
            for (int level = 0; level < levels.size(); level++) {
                for (FileMeta f : levels.get(level)) {
                    if (f.number() == number) {
                        return level;
                    }
                }
            }
            return -1;
        }

        /** Largest sequence number held by any live table, or -1 when there is none. */
        public long maxTableSequence() {
            long max = -1;
            for (FileMeta f : tables()) {
                max = Math.max(max, f.maxSequence());
            }
            return max;
        }
    }

    /**
     * The files of a data directory, by role.
     *
     * @param current        the manifest CURRENT names (null when CURRENT is missing or unreadable)
     * @param currentProblem why CURRENT could not be read (null when it was read, or is missing)
     * @param manifests   every {@code MANIFEST-<n>} file name, in number order
     * @param tables      table files in {@code sst/} ({@code <n>.sst}), by number
     * @param tempFiles   unfinished files ({@code sst/*.tmp}, {@code CURRENT.tmp}) an open would delete
     * @param segments    WAL segments, in LSN order
     * @param lost        file names under {@code lost/}
     */
    public record DirFiles(String current, String currentProblem, List<String> manifests, List<Path> tables, List<String> tempFiles,
                        List<Segment> segments, List<String> lost) {
    }

    /** Classifies {@code dir} without reading any file. */
    public static Kind classify(Path dir) {
        if (!java.nio.file.Files.exists(dir)) {
            return Kind.MISSING;
        }
        if (!java.nio.file.Files.isDirectory(dir)) {
            return Kind.NOT_A_DIRECTORY;
        }
        if (java.nio.file.Files.exists(dir.resolve(DbFiles.CURRENT))) {
            return Kind.DATABASE;
        }
        try (Stream<Path> children = java.nio.file.Files.list(dir)) {
            List<String> names = children.map(p -> p.getFileName().toString()).toList();
            if (names.isEmpty()) {
                return Kind.EMPTY;
            }
            boolean dbLike = names.contains(Wal.WAL_DIR) || names.contains(DbFiles.SST_DIR)
                    || names.stream().anyMatch(n -> DbFiles.manifestNumber(n) >= 0);
            return dbLike ? Kind.DATABASE_WITHOUT_CURRENT : Kind.NOT_A_DATABASE;
        } catch (IOException e) {
            throw StorageException.fromIo("listing " + dir, e);
        }
    }

    /** Lists the directory's files by role. */
    public static DirFiles files(StorageEnv env, Path dir) {
        try {
            String current = null;
            String currentProblem = null;
            if (env.exists(dir.resolve(DbFiles.CURRENT))) {
                try {
                    current = VersionSet.readCurrent(env, dir);
                } catch (StorageException | IOException e) {
                    currentProblem = e.getMessage();
                }
            }
            List<String> manifests = new ArrayList<>();
            List<String> temps = new ArrayList<>();
            for (Path p : env.list(dir)) {
                String name = p.getFileName().toString();
                if (DbFiles.manifestNumber(name) >= 0) {
                    manifests.add(name);
                } else if (name.equals(DbFiles.CURRENT_TEMP)) {
                    temps.add(name);
                }
            }
            manifests.sort((a, b) -> Long.compare(DbFiles.manifestNumber(a), DbFiles.manifestNumber(b)));
            List<Path> tables = new ArrayList<>();
            for (Path p : env.list(dir.resolve(DbFiles.SST_DIR))) {
                if (p.getFileName().toString().endsWith(DbFiles.TEMP_SUFFIX)) {
                    temps.add(DbFiles.SST_DIR + "/" + p.getFileName());
                } else if (DbFiles.sstNumber(p) >= 0) {
                    tables.add(p);
                }
            }
            tables.sort((a, b) -> Long.compare(DbFiles.sstNumber(a), DbFiles.sstNumber(b)));
            List<Segment> segments = new ArrayList<>();
            for (Path p : env.list(dir.resolve(Wal.WAL_DIR))) {
                long base = SegmentFiles.parseSegmentBase(p);
                if (base >= 0) {
                    segments.add(new Segment(p.getFileName().toString(), base, java.nio.file.Files.size(p)));
                }
            }
            segments.sort((a, b) -> Long.compare(a.baseLsn(), b.baseLsn()));
            List<String> lost = new ArrayList<>();
            for (Path p : env.list(dir.resolve(Wal.LOST_DIR))) {
                lost.add(p.getFileName().toString());
            }
            return new DirFiles(current, currentProblem, List.copyOf(manifests), List.copyOf(tables), List.copyOf(temps),
                    List.copyOf(segments), List.copyOf(lost));
        } catch (IOException e) {
            throw StorageException.fromIo("listing the files of " + dir, e);
        }
    }

    /** Reads and applies the manifest CURRENT names. Throws {@link ErrorCode#CORRUPTION} naming what is wrong. */
    public static Manifest currentManifest(StorageEnv env, Path dir, int maxLevels) {
        String name;
        try {
            name = VersionSet.readCurrent(env, dir);
        } catch (NoSuchFileException e) {
            throw new StorageException(ErrorCode.CORRUPTION, dir.resolve(DbFiles.CURRENT) + " is missing; run"
                    + " `redoubt db repair " + dir + "`", e);
        } catch (IOException e) {
            throw StorageException.fromIo("reading " + dir.resolve(DbFiles.CURRENT), e);
        }
        if (DbFiles.manifestNumber(name) < 0) {
            throw new StorageException(ErrorCode.CORRUPTION, dir.resolve(DbFiles.CURRENT) + " names \"" + name
                    + "\", not a manifest; run `redoubt db repair " + dir + "`");
        }
        return readManifest(env, dir, name, maxLevels);
    }

    /** Reads and applies manifest {@code name}; {@link ErrorCode#CORRUPTION} if it is missing, damaged or inconsistent. */
    public static Manifest readManifest(StorageEnv env, Path dir, String name, int maxLevels) {
        Path path = dir.resolve(name);
        RecordFile.Contents contents;
        try {
            contents = RecordFile.read(env, path);
        } catch (NoSuchFileException e) {
            throw new StorageException(ErrorCode.CORRUPTION, "manifest " + name + " is missing; run `redoubt db repair "
                    + dir + "`", e);
        } catch (IOException e) {
            throw StorageException.fromIo("reading manifest " + path, e);
        }
        VersionSet.checkFirstRecord(dir, path, contents);
        Version version = new Version(maxLevels);
        long checkpoint = 0;
        long nextFile = DbFiles.manifestNumber(name) + 1;
        long epoch = 0;
        long walDurableLsn = 0;
        int index = 0;
        for (byte[] record : contents.records()) {
            VersionEdit edit = VersionEdit.decode(record, path + " edit " + index, maxLevels);
            try {
                version = version.apply(edit);
            } catch (IllegalStateException e) {
                throw new StorageException(ErrorCode.CORRUPTION, path + " edit " + index + " does not apply: "
                        + e.getMessage(), e);
            }
            if (edit.checkpointLsn != null) {
                checkpoint = Math.max(checkpoint, edit.checkpointLsn);
            }
            if (edit.nextFileNumber != null) {
                nextFile = Math.max(nextFile, edit.nextFileNumber);
            }
            if (edit.epoch != null) {
                epoch = edit.epoch;
            }
            if (edit.walDurableLsn != null) {
                walDurableLsn = edit.walDurableLsn;
            }
            for (VersionEdit.Added a : edit.added) {
                nextFile = Math.max(nextFile, a.file().number() + 1);
            }
            index++;
        }
        List<List<FileMeta>> levels = new ArrayList<>();
        for (int level = 0; level < version.levelCount(); level++) {
            levels.add(version.files(level));
        }
        try {
            VersionSet.checkTornEditHadNoEffect(env, dir, path, contents, version, checkpoint);
        } catch (IOException e) {
            throw StorageException.fromIo("listing the files of " + dir, e);
        }
        return new Manifest(name, index, contents.tornBytes(), checkpoint, nextFile, epoch, List.copyOf(levels),
                walDurableLsn);
    }

    /** The path of table {@code number} in {@code dir}. */
    public static Path tablePath(Path dir, long number) {
        return DbFiles.sstPath(dir, number);
    }

    /** The number of a table file ({@code <n>.sst}), or -1. */
    public static long tableNumber(Path file) {
        return DbFiles.sstNumber(file);
    }

    /** Table numbers named in {@code manifest}. */
    public static Set<Long> liveTableNumbers(Manifest manifest) {
        Set<Long> numbers = new java.util.HashSet<>();
        for (FileMeta f : manifest.tables()) {
            numbers.add(f.number());
        }
        return numbers;
    }

    /** Receives the operations of a write batch. */
    public interface BatchVisitor {
        void op(int index, EntryKind kind, byte[] key, byte[] value);
    }

    /**
     * Decodes the payload of a WAL {@code WRITE_BATCH} record logged at {@code lsn} (operation {@code i} has
     * sequence {@code lsn + i}); returns the operation count. {@link ErrorCode#CORRUPTION} on a malformed batch.
     */
    public static int decodeBatch(byte[] payload, long lsn, BatchVisitor visitor) {
        return WriteBatchFormat.decode(new UnsafeBuffer(payload), 0, payload.length, lsn, visitor::op);
    }

    /** The default number of levels of a database ({@link DbOptions#maxLevels()}). */
    public static int defaultMaxLevels() {
        return DbOptions.defaults().maxLevels();
    }
}
