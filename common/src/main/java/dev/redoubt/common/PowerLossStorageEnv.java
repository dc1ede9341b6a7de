package dev.redoubt.common;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The real file layer with the page cache moved into this process: every byte written and not yet covered by a
 * completed {@link StorageFile#force()} lives only in this process's memory (an {@link UnsyncedOverlay} per file),
 * so that killing the process with SIGKILL loses exactly the file data a power cut would lose. This is RocksDB's
 * "sync fault injection" ({@code FaultInjectionTestFS}) made to hold across a real process death: the child JVM of
 * {@code redoubt crash-test --power-loss} runs its database on it.
 *
 * <h2>File data: exactly as after a power cut</h2>
 * Reads see the unsynced bytes over the file on disk; {@code size()} and {@code truncate()} work on the length
 * the process set; {@code force()} writes the file's unsynced state to the disk file and fsyncs it. Nothing else
 * ever writes a disk file, so it holds exactly what its last completed force made durable: after a kill, every
 * write and truncation since each file's last force is gone, and every forced byte is there. The unsynced state
 * belongs to the file, not to a handle or a name: all handles of a file share it, it outlives their
 * {@code close()} (as the page cache does), and a rename or link carries it to the new name. Writes are not torn
 * (a power cut inside one write is {@code SimulatedStorageEnv.cutPowerTearingWrites} in test-support).
 *
 * <h2>Names: one state a power cut can leave, not all of them</h2>
 * <ul>
 *   <li><b>Create</b> ({@code openForWrite} of a missing file), <b>rename</b>, <b>link</b> and
 *       {@code createDirectories} reach the file system at once, so after a kill they have happened, even those
 *       whose directory was never fsynced: the state of a file system that committed its metadata journal but not
 *       the data (the classic empty file after a crash). That is a state a power cut can leave, so what fails
 *       here is a real bug; but the opposite state, a create or rename lost for want of a directory fsync, is
 *       never produced.</li>
 *   <li>A <b>directory rename</b> carries the state of every file below it (unsynced bytes, hidden names) to
 *       the new name, as the page cache follows the inodes: files created later under the old name are new.</li>
 *   <li><b>Delete</b> of a file is deferred until {@link #syncDirectory} of its directory (or
 *       {@link #createDirectories} of a new subdirectory, which fsyncs it): until then the name is hidden from
 *       this process ({@code exists}, {@code list} and opens do not see it) but the file stays on disk, so a kill
 *       before the directory fsync brings it back with its last forced content, as a power cut undoes an
 *       unsynced delete. Creating, linking or renaming onto a hidden name applies the delete first. Deleting a
 *       directory is immediate.</li>
 * </ul>
 * Why creates and renames are not lossy: a file whose name is not yet durable can still be forced, and its data
 * must then live somewhere durable but invisible under its name; doing that in a real directory means a shadow
 * namespace (staging files, hard links applied at each directory fsync, open handles moved between inodes) whose
 * own crash windows would be harder to trust than the engine it tests. Lost creates and renames are covered
 * instead by the in-memory {@code SimulatedStorageEnv} (test-support), whose power cut reverts every directory to
 * its last fsync, in {@code WalPowerCutTest} and {@code DbModelTest}. So a missing directory fsync after a create
 * or rename is not detected by this env.
 *
 * <p>Locks ({@link #lock}) are the real ones: the file system releases them when the process dies.
 *
 * <p>Memory: the unsynced bytes of every file, with no bound of its own; the engine bounds them (the WAL is forced
 * at least every {@code asyncFlushIntervalMillis}, a table or manifest at its end, a preallocated segment before
 * it is used), so in the crash test's child they stay below a segment or two.
 *
 * <p>Thread-safety: every method may be called from any thread. Name operations hold this env's monitor; the
 * operations of an open file hold only its overlay's monitor (never the env's), so there is no lock-order cycle.
 */
public final class PowerLossStorageEnv implements StorageEnv {
    private final StorageEnv disk = FileStorageEnv.INSTANCE;
    /** The unsynced state of every file opened so far, by its current name. Guarded by this. */
    private final Map<Path, UnsyncedOverlay> overlays = new HashMap<>();
    /** Files deleted since their directory's last fsync: hidden here, still on disk. Guarded by this. */
    private final Set<Path> pendingDeletes = new HashSet<>();

    @Override
    public synchronized StorageFile openForRead(Path path) throws IOException {
        Path key = key(path);
        if (pendingDeletes.contains(key)) {
            throw new NoSuchFileException(path.toString());
        }
        StorageFile file = disk.openForRead(path);
        return new Handle(file, overlayOf(key, file), false);
    }

    @Override
    public synchronized StorageFile openForWrite(Path path) throws IOException {
        Path key = key(path);
        applyDelete(key);
        StorageFile file = disk.openForWrite(path);
        return new Handle(file, overlayOf(key, file), true);
    }

    @Override
    public synchronized boolean exists(Path path) {
        return !pendingDeletes.contains(key(path)) && disk.exists(path);
    }

    @Override
    public synchronized void rename(Path source, Path target) throws IOException {
        Path from = key(source);
        Path to = key(target);
        if (pendingDeletes.contains(from)) {
            throw new NoSuchFileException(source.toString());
        }
        boolean directory = Files.isDirectory(source);
        disk.rename(source, target);
        // The rename replaced whatever the target named on disk, a hidden file included: that delete is moot.
        pendingDeletes.remove(to);
        UnsyncedOverlay moved = overlays.remove(from);
        if (moved != null) {
            overlays.put(to, moved);
        } else {
            overlays.remove(to);
        }
        if (directory) {
            moveStateUnder(from, to);
        }
    }

    /**
     * REQUIRES this monitor. After a directory rename: the state of every file below {@code from} (unsynced bytes,
     * a delete not yet fsynced) now belongs to the same file below {@code to}, and none is left under the old
     * name, where new files are new. (A directory can only replace a missing or empty one, so nothing was below
     * {@code to}.)
     */
    private void moveStateUnder(Path from, Path to) {
        Map<Path, UnsyncedOverlay> movedOverlays = new HashMap<>();
        for (Iterator<Map.Entry<Path, UnsyncedOverlay>> it = overlays.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Path, UnsyncedOverlay> e = it.next();
            if (e.getKey().startsWith(from)) {
                movedOverlays.put(to.resolve(from.relativize(e.getKey())), e.getValue());
                it.remove();
            }
        }
        overlays.putAll(movedOverlays);
        Set<Path> movedDeletes = new HashSet<>();
        for (Iterator<Path> it = pendingDeletes.iterator(); it.hasNext(); ) {
            Path p = it.next();
            if (p.startsWith(from)) {
                movedDeletes.add(to.resolve(from.relativize(p)));
                it.remove();
            }
        }
        pendingDeletes.addAll(movedDeletes);
    }

    @Override
    public synchronized boolean delete(Path path) throws IOException {
        Path key = key(path);
        if (pendingDeletes.contains(key)) {
            return false;
        }
        if (!Files.isRegularFile(path)) {
            return disk.delete(path); // a directory, or nothing: at once
        }
        pendingDeletes.add(key);
        overlays.remove(key); // the open handles keep theirs, as they keep the inode
        return true;
    }

    @Override
    public synchronized List<Path> list(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : disk.list(dir)) {
            if (!pendingDeletes.contains(key(p))) {
                files.add(p);
            }
        }
        return files;
    }

    @Override
    public synchronized void createDirectories(Path dir) throws IOException {
        Path parent = key(dir).getParent();
        if (!Files.isDirectory(dir) && parent != null) {
            applyDeletesIn(parent); // FileStorageEnv fsyncs the parent of the directory it creates
        }
        disk.createDirectories(dir);
    }

    @Override
    public synchronized void syncDirectory(Path dir) throws IOException {
        applyDeletesIn(key(dir));
        disk.syncDirectory(dir);
    }

    @Override
    public synchronized AutoCloseable lock(Path path) throws IOException {
        applyDelete(key(path));
        return disk.lock(path);
    }

    @Override
    public synchronized void link(Path source, Path target) throws IOException {
        Path from = key(source);
        if (pendingDeletes.contains(from)) {
            throw new NoSuchFileException(source.toString());
        }
        Path to = key(target);
        applyDelete(to);
        disk.link(source, target);
        UnsyncedOverlay shared = overlays.get(from);
        if (shared != null) {
            overlays.put(to, shared); // one inode, two names
        }
    }

    /** Bytes written to {@code path} and not yet forced (0 for a file this env has not opened). For tests. */
    synchronized long unsyncedBytes(Path path) {
        UnsyncedOverlay o = overlays.get(key(path));
        return o == null ? 0 : o.unsyncedBytes();
    }

    /** REQUIRES this monitor. The overlay of the file now open as {@code file}, created clean at first open. */
    private UnsyncedOverlay overlayOf(Path key, StorageFile file) throws IOException {
        UnsyncedOverlay o = overlays.get(key);
        if (o == null) {
            try {
                o = new UnsyncedOverlay(file.size());
            } catch (IOException | RuntimeException e) {
                file.close();
                throw e;
            }
            overlays.put(key, o);
        }
        return o;
    }

    /** REQUIRES this monitor. Makes a pending delete of {@code key} happen now (before the name is reused). */
    private void applyDelete(Path key) throws IOException {
        if (pendingDeletes.remove(key)) {
            disk.delete(key);
        }
    }

    /** REQUIRES this monitor. Makes every pending delete of a name in {@code dirKey} happen now. */
    private void applyDeletesIn(Path dirKey) throws IOException {
        for (Iterator<Path> it = pendingDeletes.iterator(); it.hasNext(); ) {
            Path p = it.next();
            if (dirKey.equals(p.getParent())) {
                disk.delete(p);
                it.remove();
            }
        }
    }

    private static Path key(Path path) {
        return path.toAbsolutePath().normalize();
    }

    /** One open file: the disk file (read where nothing unsynced covers it; written only by a force) and its overlay. */
    private static final class Handle implements StorageFile {
        private final StorageFile disk;
        private final UnsyncedOverlay overlay;
        private final boolean writable;
        private volatile boolean closed;

        Handle(StorageFile disk, UnsyncedOverlay overlay, boolean writable) {
            this.disk = disk;
            this.overlay = overlay;
            this.writable = writable;
        }

        @Override
        public int read(long position, ByteBuffer dst) throws IOException {
            checkOpen();
            return overlay.read(disk, position, dst);
        }

        @Override
        public void write(long position, ByteBuffer src) throws IOException {
            checkWritable();
            overlay.write(position, src);
        }

        @Override
        public void force() throws IOException {
            checkOpen();
            overlay.flush(disk, writable);
        }

        @Override
        public long size() throws IOException {
            checkOpen();
            return overlay.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            checkWritable();
            overlay.truncate(size);
        }

        @Override
        public void close() throws IOException {
            closed = true;
            disk.close();
        }

        private void checkOpen() throws ClosedChannelException {
            if (closed) {
                throw new ClosedChannelException();
            }
        }

        private void checkWritable() throws ClosedChannelException {
            checkOpen();
            if (!writable) {
                throw new NonWritableChannelException(); // what FileStorageEnv's read-only channel throws
            }
        }
    }
}
