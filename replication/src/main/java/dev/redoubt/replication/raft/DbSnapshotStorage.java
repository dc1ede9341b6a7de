package dev.redoubt.replication.raft;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft snapshots of a {@link DbStateMachine}: engine checkpoints kept in Ratis' state machine directory
 * ({@code <raft dir>/<group id>/sm/}), reported to Ratis as {@link FileListSnapshotInfo} so that its
 * install-snapshot ships them to a lagging follower. On such a follower Ratis writes the files it receives into
 * a temporary directory and then replaces this whole directory with it.
 *
 * <p>Layout of the directory (this class owns every name in it):
 * <pre>
 * snapshot.&lt;term&gt;_&lt;index&gt;/    a complete snapshot (term and index: 20 decimal digits each, so names sort)
 *     CURRENT, MANIFEST-&lt;n&gt;       the engine's checkpoint at that index ({@code Db.checkpoint}), whose
 *     sst/&lt;n&gt;.sst                   tables are hard links to the engine's (cheap; tables are immutable)
 *     RAFT-SNAPSHOT                 its manifest ({@link SnapshotManifest}): written and fsynced last
 *     *.md5                         on a follower that received it: Ratis' digests; not part of the snapshot
 * partial.&lt;term&gt;_&lt;index&gt;/     being written; renamed to snapshot.* once complete and durable
 * deleting.&lt;term&gt;_&lt;index&gt;/    an old snapshot being deleted: renamed first, so a crash never leaves a
 *                               half-deleted directory under a snapshot's name
 * damaged.&lt;term&gt;_&lt;index&gt;/     a snapshot whose files did not match its manifest: kept for inspection,
 *                               never used; remove it by hand
 * </pre>
 * {@code partial.*} and {@code deleting.*} are deleted when the storage starts. A {@code snapshot.*} directory is
 * used only if its name parses strictly, its manifest reads back intact and names the same (term, index), and
 * every file it lists exists with the listed size; otherwise it is skipped with a warning saying why (never used
 * silently). Its MD5 digests are checked in full before it is installed into the engine ({@link #verify}), and
 * Ratis checks them on the follower as the files arrive (they are the digests this class reports).
 *
 * <p>Thread-safety: {@link #getLatestSnapshot} may be called from any thread; the other methods are
 * synchronized. The Raft update thread calls them, except Ratis' own replacement of the directory on
 * install-snapshot, after which {@link #refresh} must run.
 */
final class DbSnapshotStorage implements StateMachineStorage {
    private static final Logger LOG = LoggerFactory.getLogger(DbSnapshotStorage.class);
    static final String SNAPSHOT = "snapshot";
    static final String PARTIAL = "partial";
    static final String DELETING = "deleting";
    static final String DAMAGED = "damaged";
    private static final Pattern NAME = Pattern.compile("(snapshot|partial|deleting|damaged)\\.([0-9]{20})_([0-9]{20})");

    /** Writes an engine checkpoint (durably) into a directory that does not exist yet. */
    @FunctionalInterface
    interface CheckpointWriter {
        void writeTo(Path target) throws IOException;
    }

    /** A complete snapshot: where it is, its manifest, and the manifest's own digest (Ratis ships it too). */
    record DbSnapshot(Path dir, SnapshotManifest manifest, String manifestMd5) {
        TermIndex termIndex() {
            return TermIndex.valueOf(manifest.term(), manifest.index());
        }

        long index() {
            return manifest.index();
        }

        /** The files as Ratis ships them: the checkpoint's, then the manifest, each with its recorded digest. */
        FileListSnapshotInfo toInfo() {
            List<FileInfo> files = new ArrayList<>();
            for (SnapshotManifest.Entry e : manifest.files()) {
                files.add(new FileInfo(dir.resolve(e.path()), md5(e.md5())));
            }
            files.add(new FileInfo(dir.resolve(SnapshotManifest.FILE_NAME), md5(manifestMd5)));
            return new FileListSnapshotInfo(files, termIndex());
        }

        private static MD5Hash md5(String hex) {
            return MD5Hash.newInstance(HexFormat.of().parseHex(hex));
        }
    }

    private volatile Path dir;
    private volatile DbSnapshot latest;
    private volatile FileListSnapshotInfo latestInfo;

    @Override
    public synchronized void init(RaftStorage raftStorage) throws IOException {
        init(raftStorage.getStorageDir().getStateMachineDir().toPath());
    }

    /** Starts on {@code smDir}: removes what a crash left half-done, then finds the latest snapshot. */
    synchronized void init(Path smDir) throws IOException {
        this.dir = smDir;
        Files.createDirectories(smDir);
        boolean removed = false;
        for (Path p : children()) {
            Matcher m = NAME.matcher(p.getFileName().toString());
            if (m.matches() && (m.group(1).equals(PARTIAL) || m.group(1).equals(DELETING))) {
                LOG.info("{}: removing {} (a snapshot write or delete that a stop or crash cut short)", smDir, p.getFileName());
                DirectoryTrees.deleteTree(p);
                removed = true;
            } else if (m.matches() && m.group(1).equals(DAMAGED)) {
                LOG.warn("{}: {} holds a damaged snapshot set aside earlier; it is never used: inspect it, then delete it",
                        smDir, p.getFileName());
            }
        }
        if (removed) {
            FileTrees.fsyncDirectory(smDir);
        }
        refresh();
    }

    @Override
    public FileListSnapshotInfo getLatestSnapshot() {
        return latestInfo;
    }

    /** The latest complete snapshot as of the last {@link #refresh}, or null. */
    DbSnapshot latest() {
        return latest;
    }

    /** Ratis formats its storage directory, which holds this one: nothing more to do. */
    @Override
    public void format() {
    }

    @Override
    public java.io.File getSnapshotDir() {
        return requireDir().toFile();
    }

    /** Rescans the directory (after Ratis replaced it, or after a change here); returns the latest snapshot. */
    synchronized DbSnapshot refresh() throws IOException {
        List<DbSnapshot> all = complete();
        DbSnapshot newest = all.isEmpty() ? null : all.get(0);
        latest = newest;
        latestInfo = newest == null ? null : newest.toInfo();
        return newest;
    }

    /** Every complete snapshot, newest first; what is not complete is skipped with a warning saying why. */
    synchronized List<DbSnapshot> complete() throws IOException {
        Path smDir = requireDir();
        List<DbSnapshot> out = new ArrayList<>();
        for (Path p : children()) {
            String name = p.getFileName().toString();
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                LOG.warn("{}: ignoring '{}': not a snapshot directory name (snapshot.<term>_<index>, 20 digits each)",
                        smDir, name);
                continue;
            }
            if (!m.group(1).equals(SNAPSHOT)) {
                continue;
            }
            try {
                out.add(open(p, Long.parseLong(m.group(2)), Long.parseLong(m.group(3))));
            } catch (NumberFormatException e) {
                LOG.warn("{}: ignoring '{}': its term or index does not fit in 63 bits", smDir, name);
            } catch (StorageException e) {
                LOG.warn("{}: snapshot {} is not used: {}", smDir, name, e.getMessage());
            }
        }
        out.sort(Comparator.comparingLong(DbSnapshot::index).reversed());
        return out;
    }

    /** Reads a snapshot directory's manifest and checks it against the name and the files' sizes. */
    static DbSnapshot open(Path snapshotDir, long term, long index) throws IOException {
        Path manifestFile = snapshotDir.resolve(SnapshotManifest.FILE_NAME);
        if (!Files.isRegularFile(manifestFile)) {
            throw new StorageException(ErrorCode.CORRUPTION, "it has no " + SnapshotManifest.FILE_NAME
                    + " file, so it is partial (a copy or write that did not finish)");
        }
        SnapshotManifest manifest = SnapshotManifest.read(manifestFile);
        if (manifest.term() != term || manifest.index() != index) {
            throw new StorageException(ErrorCode.CORRUPTION, "its manifest covers term " + manifest.term() + " index "
                    + manifest.index() + ", but its name says term " + term + " index " + index);
        }
        for (SnapshotManifest.Entry e : manifest.files()) {
            Path f = snapshotDir.resolve(e.path());
            long size = Files.isRegularFile(f) ? Files.size(f) : -1;
            if (size != e.size()) {
                throw new StorageException(ErrorCode.CORRUPTION, e.path() + (size < 0 ? " is missing" : " has " + size
                        + " bytes") + ", its manifest lists " + e.size() + " bytes (partial or damaged)");
            }
        }
        return new DbSnapshot(snapshotDir, manifest, FileTrees.md5Hex(manifestFile));
    }

    /**
     * Writes snapshot {@code termIndex}: the checkpoint into {@code partial.*}, then its manifest, then the rename to
     * {@code snapshot.*}, each step durable before the next. Returns the new snapshot (now the latest).
     */
    synchronized DbSnapshot write(TermIndex termIndex, CheckpointWriter checkpoint) throws IOException {
        return write(termIndex, checkpoint, latest);
    }

    /**
     * As {@link #write(TermIndex, CheckpointWriter)}, reusing the MD5s of the tables that are the same files as in
     * {@code previous} (null: none), which need not be the latest (after {@link #setAside}, the set-aside copy
     * without its damaged files).
     */
    synchronized DbSnapshot write(TermIndex termIndex, CheckpointWriter checkpoint, DbSnapshot previous)
            throws IOException {
        Path smDir = requireDir();
        String suffix = suffix(termIndex.getTerm(), termIndex.getIndex());
        Path partial = smDir.resolve(PARTIAL + "." + suffix);
        Path target = smDir.resolve(SNAPSHOT + "." + suffix);
        if (Files.exists(target)) {
            retire(target); // not complete, or it would be the latest already: the caller checked
        }
        DirectoryTrees.deleteTree(partial);
        checkpoint.writeTo(partial);
        List<SnapshotManifest.Entry> entries = describe(partial, previous);
        new SnapshotManifest(termIndex.getTerm(), termIndex.getIndex(), entries)
                .write(partial.resolve(SnapshotManifest.FILE_NAME));
        FileTrees.fsyncDirectory(partial);
        FileTrees.renameAtomically(partial, target);
        FileTrees.fsyncDirectory(smDir);
        DbSnapshot now = refresh();
        if (now == null || now.index() != termIndex.getIndex()) {
            throw new StorageException(ErrorCode.CORRUPTION, "snapshot " + target + " was written but does not read back"
                    + " as the latest complete snapshot (see the warning above)");
        }
        return now;
    }

    /**
     * The files of a checkpoint with sizes and MD5s. A table that is the same file (same inode: a hard link) as one
     * in {@code previous} keeps that one's digest: tables are immutable, so only new tables are read.
     */
    private static List<SnapshotManifest.Entry> describe(Path checkpoint, DbSnapshot previous) throws IOException {
        Map<String, SnapshotManifest.Entry> before = new HashMap<>();
        if (previous != null) {
            for (SnapshotManifest.Entry e : previous.manifest().files()) {
                before.put(e.path(), e);
            }
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(checkpoint)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        List<SnapshotManifest.Entry> out = new ArrayList<>();
        for (Path f : files) {
            String path = checkpoint.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
            long size = Files.size(f);
            SnapshotManifest.Entry old = before.get(path);
            String md5 = null;
            if (old != null && path.startsWith("sst/") && old.size() == size) {
                Object key = FileTrees.fileKey(f);
                if (key != null && key.equals(fileKeyOrNull(previous.dir().resolve(path)))) {
                    md5 = old.md5();
                }
            }
            out.add(new SnapshotManifest.Entry(path, size, md5 != null ? md5 : FileTrees.md5Hex(f)));
        }
        return out;
    }

    private static Object fileKeyOrNull(Path p) {
        try {
            return FileTrees.fileKey(p);
        } catch (IOException e) {
            return null;
        }
    }

    /** Reads every file of the snapshot in full and checks its MD5; {@link ErrorCode#CORRUPTION} if one differs. */
    static void verify(DbSnapshot snapshot) throws IOException {
        List<Damage> damaged = damagedFiles(snapshot);
        if (!damaged.isEmpty()) {
            throw new StorageException(ErrorCode.CORRUPTION, "snapshot " + snapshot.dir() + ": " + damaged.get(0).why());
        }
    }

    /** A file of a snapshot that does not match its manifest, and how. */
    record Damage(SnapshotManifest.Entry entry, String why) {
    }

    /** Every file of the snapshot that does not match its manifest (all of them read in full); empty if none. */
    static List<Damage> damagedFiles(DbSnapshot snapshot) throws IOException {
        List<Damage> damaged = new ArrayList<>();
        for (SnapshotManifest.Entry e : snapshot.manifest().files()) {
            Path f = snapshot.dir().resolve(e.path());
            String md5;
            try {
                md5 = FileTrees.md5Hex(f);
            } catch (NoSuchFileException x) {
                damaged.add(new Damage(e, e.path() + " is missing"));
                continue;
            }
            if (!md5.equals(e.md5()) || Files.size(f) != e.size()) {
                damaged.add(new Damage(e, e.path() + " has MD5 " + md5 + " and " + Files.size(f) + " bytes, its manifest"
                        + " says " + e.md5() + " and " + e.size() + " bytes: the file was damaged after the snapshot was"
                        + " written"));
            }
        }
        return damaged;
    }

    /**
     * The intact part of {@code snapshot} now at {@code dir} (set aside): its manifest without the {@code damaged}
     * files, for {@link #write(TermIndex, CheckpointWriter, DbSnapshot)} to reuse the MD5s of the rest.
     */
    static DbSnapshot intactPart(DbSnapshot snapshot, Path dir, List<Damage> damaged) {
        Set<String> bad = new HashSet<>();
        damaged.forEach(d -> bad.add(d.entry().path()));
        SnapshotManifest intact = new SnapshotManifest(snapshot.manifest().term(), snapshot.index(),
                snapshot.manifest().files().stream().filter(e -> !bad.contains(e.path())).toList());
        return new DbSnapshot(dir, intact, snapshot.manifestMd5());
    }

    /** Renames a snapshot that failed {@link #verify} to {@code damaged.*} so that it is never used again. */
    synchronized void setAside(DbSnapshot snapshot) throws IOException {
        setAside(snapshot, true);
    }

    /**
     * As {@link #setAside(DbSnapshot)}; with {@code publish} false, {@link #latest} and Ratis' latest snapshot stay
     * as they were until the next {@link #refresh} or {@link #write} (a send that reads the renamed files fails,
     * and Ratis tries again), so that no older snapshot is offered in between.
     */
    synchronized Path setAside(DbSnapshot snapshot, boolean publish) throws IOException {
        Path smDir = requireDir();
        Path damaged = smDir.resolve(DAMAGED + "." + suffix(snapshot.manifest().term(), snapshot.index()));
        DirectoryTrees.deleteTree(damaged);
        FileTrees.renameAtomically(snapshot.dir(), damaged);
        FileTrees.fsyncDirectory(smDir);
        LOG.error("{}: set the damaged snapshot aside as {}; it is never used; inspect it, then delete it",
                smDir, damaged.getFileName());
        if (publish) {
            refresh();
        }
        return damaged;
    }

    /**
     * Keeps the newest {@code policy.getNumSnapshotsRetained()} complete snapshots (all of them when that is 0 or
     * less) and deletes every snapshot directory older than the oldest one kept, crash-safely.
     */
    @Override
    public synchronized void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
        int keep = policy == null ? 0 : policy.getNumSnapshotsRetained();
        List<DbSnapshot> all = complete();
        if (keep <= 0 || all.size() <= keep) {
            return;
        }
        long oldestKept = all.get(keep - 1).index();
        for (Path p : children()) {
            Matcher m = NAME.matcher(p.getFileName().toString());
            if (m.matches() && m.group(1).equals(SNAPSHOT) && indexOrMax(m.group(3)) < oldestKept) {
                retire(p);
            }
        }
        refresh();
    }

    private static long indexOrMax(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Deletes a snapshot directory: renamed to {@code deleting.*} first (durably), then removed. */
    private void retire(Path snapshotDir) throws IOException {
        Path smDir = requireDir();
        Matcher m = NAME.matcher(snapshotDir.getFileName().toString());
        Path deleting = smDir.resolve(DELETING + "." + (m.matches() ? m.group(2) + "_" + m.group(3) : "unnamed"));
        DirectoryTrees.deleteTree(deleting);
        FileTrees.renameAtomically(snapshotDir, deleting);
        FileTrees.fsyncDirectory(smDir);
        DirectoryTrees.deleteTree(deleting);
        FileTrees.fsyncDirectory(smDir);
    }

    static String suffix(long term, long index) {
        return String.format("%020d_%020d", term, index);
    }

    private List<Path> children() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(requireDir())) {
            return out; // Ratis' install moves it away for a moment; a crash then can leave it missing
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(requireDir())) {
            s.forEach(out::add);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    private Path requireDir() {
        return Objects.requireNonNull(dir, "the snapshot storage is not initialized (init runs in initialize())");
    }
}
