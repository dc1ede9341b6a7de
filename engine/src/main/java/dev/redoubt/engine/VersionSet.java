package dev.redoubt.engine;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import dev.redoubt.wal.RecordFile;
import dev.redoubt.wal.SegmentFiles;
import dev.redoubt.wal.Wal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The manifest and CURRENT: the durable record of which tables are live, the checkpoint LSN, the next file
 * number and the epoch. Every change is one {@link VersionEdit} appended (and fsynced) to the live
 * {@code MANIFEST-<n>} before it takes effect. At open, the manifest is replayed and then rewritten as a single
 * snapshot edit in a new manifest, which CURRENT is switched to atomically (write temp, fsync, rename, fsync
 * directory); the old manifest is deleted afterwards. A crash at any point leaves CURRENT naming a complete
 * manifest.
 *
 * <p>Thread-safety: {@link #logAndApply} and {@link #newFileNumber} are synchronized; {@link #current()} is a
 * volatile read.
 */
final class VersionSet implements AutoCloseable {
    private static final int MAX_CURRENT_BYTES = 256;

    private final StorageEnv env;
    private final Path dir;
    private final int maxLevels;
    private volatile Version current;
    private long checkpointLsn;
    private long nextFileNumber;
    private long epoch;
    /** Every WAL byte below it was fsynced at the last clean close (0: not known). See VersionEdit. */
    private long walDurableLsn;
    private long manifestNumber;
    private RecordFile manifest;
    /** Bytes of a torn last manifest edit found at open (an edit that was never acknowledged). */
    private long tornManifestBytes;

    private VersionSet(StorageEnv env, Path dir, int maxLevels) {
        this.env = env;
        this.dir = dir;
        this.maxLevels = maxLevels;
        this.current = new Version(maxLevels);
        this.nextFileNumber = 1;
    }

    /** A new, empty database: the first manifest and CURRENT. */
    static VersionSet create(StorageEnv env, Path dir, int maxLevels) throws IOException {
        VersionSet set = new VersionSet(env, dir, maxLevels);
        set.writeNewManifest();
        return set;
    }

    /**
     * Replays CURRENT's manifest; unless {@code readOnly}, compacts it into a new manifest. CURRENT and the manifest
     * are checked before anything is changed, so an open they make fail leaves the directory as it found it.
     */
    static VersionSet recover(StorageEnv env, Path dir, int maxLevels, boolean readOnly) throws IOException {
        VersionSet set = new VersionSet(env, dir, maxLevels);
        String name = readCurrent(env, dir);
        long number = DbFiles.manifestNumber(name);
        Path path = dir.resolve(name);
        RecordFile.Contents contents;
        try {
            contents = RecordFile.read(env, path);
        } catch (NoSuchFileException e) {
            throw new StorageException(ErrorCode.CORRUPTION, dir.resolve(DbFiles.CURRENT) + " names " + name
                    + ", which is missing" + otherManifests(env, dir, name) + "; run `redoubt db repair " + dir + "`", e);
        }
        checkFirstRecord(dir, path, contents);
        int index = 0;
        for (byte[] record : contents.records()) {
            set.apply(VersionEdit.decode(record, path + " edit " + index++, maxLevels));
        }
        checkTornEditHadNoEffect(env, dir, path, contents, set.current, set.checkpointLsn);
        set.tornManifestBytes = contents.tornBytes();
        set.manifestNumber = number;
        if (set.nextFileNumber <= number) {
            set.nextFileNumber = number + 1;
        }
        if (!readOnly) {
            set.writeNewManifest();
            env.delete(path);
            env.syncDirectory(dir);
        }
        return set;
    }

    /**
     * CURRENT is switched to a manifest only after its first record is fsynced ({@link #writeNewManifest}), so a
     * damaged or missing first record is never a torn write.
     */
    static void checkFirstRecord(Path dir, Path path, RecordFile.Contents contents) {
        if (contents.records().isEmpty()) {
            throw new StorageException(ErrorCode.CORRUPTION, path + " is corrupt at offset 0: its first record, the"
                    + " snapshot of the database, is " + (contents.tornBytes() == 0 ? "missing" : "damaged")
                    + "; run `redoubt db repair " + dir + "`");
        }
    }

    /**
     * A damaged last edit is ignored only if it can be an append that a crash cut short: then the change it
     * describes never took effect. What follows a durable edit shows on disk: a flush's edit is followed by the
     * deletion of the WAL segments below its checkpoint, a compaction's by the deletion of its input tables. If the
     * directory shows either, the edit had been durable (acknowledged), and ignoring it would lose data: the tables
     * it added would even be deleted as orphans. So the open is refused instead, before anything is changed.
     *
     * @param version       the version the edits before the damaged one describe
     * @param checkpointLsn their checkpoint
     */
    static void checkTornEditHadNoEffect(StorageEnv env, Path dir, Path path, RecordFile.Contents contents,
                                         Version version, long checkpointLsn) throws IOException {
        if (contents.tornBytes() == 0) {
            return;
        }
        String effect = null;
        Set<String> present = new HashSet<>();
        for (Path p : env.list(dir.resolve(DbFiles.SST_DIR))) {
            present.add(p.getFileName().toString());
        }
        for (long table : version.fileNumbers()) {
            if (!present.contains(DbFiles.sstPath(dir, table).getFileName().toString())) {
                effect = "table " + DbFiles.sstPath(dir, table).getFileName() + ", which the edits before it name,"
                        + " is missing (a compaction deletes its inputs only once its edit is durable)";
                break;
            }
        }
        long walStart = Long.MAX_VALUE;
        for (Path p : env.list(dir.resolve(Wal.WAL_DIR))) {
            long base = SegmentFiles.parseSegmentBase(p);
            if (base >= 0) {
                walStart = Math.min(walStart, base);
            }
        }
        if (effect == null && walStart != Long.MAX_VALUE && walStart > checkpointLsn) {
            effect = "the WAL starts at LSN " + walStart + ", above the checkpoint LSN " + checkpointLsn + " of the"
                    + " edits before it (a flush deletes WAL segments only once its edit is durable)";
        }
        if (effect != null) {
            throw new StorageException(ErrorCode.CORRUPTION, path + " is corrupt at offset " + contents.validEnd()
                    + ": its last edit (" + contents.tornBytes() + " bytes) is damaged, and it is not an append cut"
                    + " short by a crash: " + effect + ". Run `redoubt db repair " + dir + "`");
        }
    }

    /**
     * Reads CURRENT: {@code "MANIFEST-" digits "\n"} and nothing else. A byte that breaks this grammar is
     * reported with its offset.
     */
    static String readCurrent(StorageEnv env, Path dir) throws IOException {
        Path path = dir.resolve(DbFiles.CURRENT);
        byte[] bytes;
        try (StorageFile f = env.openForRead(path)) {
            long size = f.size();
            if (size == 0 || size > MAX_CURRENT_BYTES) {
                throw new StorageException(ErrorCode.CORRUPTION, path + " has " + size
                        + " bytes; expected a manifest name. Run `redoubt db repair " + dir + "`");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            f.readFully(0, b);
            bytes = b.array();
        }
        int bad = firstBadCurrentByte(bytes);
        if (bad >= 0) {
            StringBuilder text = new StringBuilder();
            for (byte c : bytes) {
                text.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02x", c & 0xff));
            }
            throw new StorageException(ErrorCode.CORRUPTION, path + " is corrupt at byte " + bad + ": it holds \""
                    + text + "\", not \"" + DbFiles.MANIFEST_PREFIX + "<number>\\n\"; run `redoubt db repair " + dir + "`");
        }
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.US_ASCII);
    }

    /** The offset of the first byte of CURRENT that breaks {@code "MANIFEST-" digit{1,18} "\n"}, or -1. */
    private static int firstBadCurrentByte(byte[] b) {
        byte[] prefix = DbFiles.MANIFEST_PREFIX.getBytes(StandardCharsets.US_ASCII);
        int i = 0;
        for (; i < prefix.length; i++) {
            if (i >= b.length || b[i] != prefix[i]) {
                return i;
            }
        }
        int digitsStart = i;
        while (i < b.length && i - digitsStart < DbFiles.MAX_NUMBER_DIGITS && b[i] >= '0' && b[i] <= '9') {
            i++;
        }
        if (i == digitsStart || i >= b.length || b[i] != '\n') {
            return i;
        }
        return i + 1 == b.length ? -1 : i + 1;
    }

    /**
     * When CURRENT names a missing manifest: the manifests that are present, and where CURRENT differs from the
     * name of the only one (a damaged digit), so that the message points at the damaged byte.
     */
    private static String otherManifests(StorageEnv env, Path dir, String named) throws IOException {
        List<String> present = new ArrayList<>();
        for (Path p : env.list(dir)) {
            if (DbFiles.manifestNumber(p.getFileName().toString()) >= 0) {
                present.add(p.getFileName().toString());
            }
        }
        if (present.size() != 1 || present.get(0).length() != named.length()) {
            return present.isEmpty() ? "" : " (present: " + String.join(", ", present) + ")";
        }
        int at = 0;
        while (present.get(0).charAt(at) == named.charAt(at)) {
            at++;
        }
        return "; the only manifest present is " + present.get(0) + ", whose name CURRENT differs from at byte " + at;
    }

    private void apply(VersionEdit edit) {
        if (edit.checkpointLsn != null) {
            checkpointLsn = Math.max(checkpointLsn, edit.checkpointLsn);
        }
        if (edit.nextFileNumber != null) {
            nextFileNumber = Math.max(nextFileNumber, edit.nextFileNumber);
        }
        if (edit.epoch != null) {
            epoch = edit.epoch;
        }
        if (edit.walDurableLsn != null) {
            walDurableLsn = edit.walDurableLsn;
        }
        try {
            current = current.apply(edit);
        } catch (IllegalStateException e) {
            throw new StorageException(ErrorCode.CORRUPTION, "manifest edit does not apply: " + e.getMessage()
                    + "; run `redoubt db repair " + dir + "`", e);
        }
        for (VersionEdit.Added a : edit.added) {
            nextFileNumber = Math.max(nextFileNumber, a.file().number() + 1);
        }
    }

    /** Writes a snapshot of the current state as a new manifest and switches CURRENT to it. */
    private void writeNewManifest() throws IOException {
        long number = nextFileNumber++;
        String name = DbFiles.manifestName(number);
        RecordFile fresh = RecordFile.create(env, dir.resolve(name));
        VersionEdit snapshot = current.asEdit();
        snapshot.checkpointLsn = checkpointLsn;
        snapshot.nextFileNumber = nextFileNumber;
        snapshot.epoch = epoch;
        if (walDurableLsn > 0) {
            // Carried over: it stays true while the log keeps those bytes (appends only add to it; a recovery that
            // cuts below it lowers it), and an open refused for damage below it must be refused again next time.
            snapshot.walDurableLsn = walDurableLsn;
        }
        writeManifestAndSwitch(fresh, env, dir, name, snapshot);
        if (manifest != null) {
            manifest.close();
        }
        manifest = fresh;
        manifestNumber = number;
    }

    /**
     * The one way a manifest is started: {@code snapshot} as the first record of the new manifest {@code fresh}
     * (named {@code name} in {@code dir}), the directory fsynced so the file is durable, then CURRENT switched to
     * it. A crash at any point leaves CURRENT naming a complete manifest (this one or the previous).
     */
    static void writeManifestAndSwitch(RecordFile fresh, StorageEnv env, Path dir, String name, VersionEdit snapshot)
            throws IOException {
        fresh.append(snapshot.encode());
        env.syncDirectory(dir);
        CrashPoints.hit(CrashPoints.MANIFEST_CREATED);
        switchCurrent(env, dir, name);
    }

    /** CURRENT := {@code manifestName}, atomically and durably. */
    private static void switchCurrent(StorageEnv env, Path dir, String manifestName) throws IOException {
        Path temp = dir.resolve(DbFiles.CURRENT_TEMP);
        try (StorageFile f = env.openForWrite(temp)) {
            f.truncate(0);
            f.write(0, ByteBuffer.wrap((manifestName + "\n").getBytes(StandardCharsets.UTF_8)));
            f.force();
        }
        CrashPoints.hit(CrashPoints.CURRENT_TEMP_WRITTEN);
        env.rename(temp, dir.resolve(DbFiles.CURRENT));
        CrashPoints.hit(CrashPoints.CURRENT_RENAMED);
        env.syncDirectory(dir);
    }

    /** Makes {@code edit} durable in the manifest, then current. */
    synchronized void logAndApply(VersionEdit edit) throws IOException {
        for (VersionEdit.Added a : edit.added) {
            nextFileNumber = Math.max(nextFileNumber, a.file().number() + 1);
        }
        edit.nextFileNumber = nextFileNumber;
        Version next = current.apply(edit); // validate before anything is written
        manifest.append(edit.encode());
        CrashPoints.hit(CrashPoints.MANIFEST_APPENDED);
        if (edit.checkpointLsn != null) {
            checkpointLsn = Math.max(checkpointLsn, edit.checkpointLsn);
        }
        if (edit.epoch != null) {
            epoch = edit.epoch;
        }
        if (edit.walDurableLsn != null) {
            walDurableLsn = edit.walDurableLsn;
        }
        current = next;
    }

    synchronized long newFileNumber() {
        return nextFileNumber++;
    }

    Version current() {
        return current;
    }

    synchronized long checkpointLsn() {
        return checkpointLsn;
    }

    synchronized long epoch() {
        return epoch;
    }

    synchronized long walDurableLsn() {
        return walDurableLsn;
    }

    synchronized long manifestNumber() {
        return manifestNumber;
    }

    long tornManifestBytes() {
        return tornManifestBytes;
    }

    @Override
    public synchronized void close() throws IOException {
        if (manifest != null) {
            manifest.close();
            manifest = null;
        }
    }
}
