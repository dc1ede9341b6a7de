package dev.redoubt.engine;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import dev.redoubt.wal.RecordFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

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

    /** Replays CURRENT's manifest; unless {@code readOnly}, compacts it into a new manifest. */
    static VersionSet recover(StorageEnv env, Path dir, int maxLevels, boolean readOnly) throws IOException {
        VersionSet set = new VersionSet(env, dir, maxLevels);
        String name = readCurrent(env, dir);
        long number = DbFiles.manifestNumber(name);
        if (number < 0) {
            throw new StorageException(ErrorCode.CORRUPTION, dir.resolve(DbFiles.CURRENT) + " names \"" + name
                    + "\", not a manifest; run `redoubt db repair " + dir + "`");
        }
        Path path = dir.resolve(name);
        RecordFile.Contents contents;
        try {
            contents = RecordFile.read(env, path);
        } catch (NoSuchFileException e) {
            throw new StorageException(ErrorCode.CORRUPTION, "CURRENT names " + name + ", which is missing; run `redoubt db repair "
                    + dir + "`", e);
        }
        int index = 0;
        for (byte[] record : contents.records()) {
            set.apply(VersionEdit.decode(record, path + " edit " + index++, maxLevels));
        }
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

    static String readCurrent(StorageEnv env, Path dir) throws IOException {
        Path path = dir.resolve(DbFiles.CURRENT);
        try (StorageFile f = env.openForRead(path)) {
            long size = f.size();
            if (size == 0 || size > MAX_CURRENT_BYTES) {
                throw new StorageException(ErrorCode.CORRUPTION, path + " has " + size
                        + " bytes; expected a manifest name. Run `redoubt db repair " + dir + "`");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            f.readFully(0, b);
            String text = new String(b.array(), StandardCharsets.UTF_8);
            if (!text.endsWith("\n")) {
                throw new StorageException(ErrorCode.CORRUPTION, path + " is incomplete; run `redoubt db repair " + dir + "`");
            }
            return text.substring(0, text.length() - 1);
        }
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
        fresh.append(snapshot.encode());
        env.syncDirectory(dir);
        CrashPoints.hit(CrashPoints.MANIFEST_CREATED);
        switchCurrent(env, dir, name);
        if (manifest != null) {
            manifest.close();
        }
        manifest = fresh;
        manifestNumber = number;
    }

    /** CURRENT := {@code manifestName}, atomically and durably. */
    static void switchCurrent(StorageEnv env, Path dir, String manifestName) throws IOException {
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
