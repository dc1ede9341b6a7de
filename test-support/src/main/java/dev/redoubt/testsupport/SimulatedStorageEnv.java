package dev.redoubt.testsupport;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-memory {@link StorageEnv} that can cut the power, modeled on LevelDB's fault-injection
 * {@code Env} ({@code FaultInjectionTestEnv}): it remembers, for every file and every directory, what
 * the operating system holds now and what stable storage holds, and {@link #cutPower()} throws the
 * former away.
 *
 * <h2>The model</h2>
 * Paths are keys: every path is made absolute and normalized ({@code toAbsolutePath().normalize()});
 * nothing touches the real file system.
 * <ul>
 *   <li>A file is an inode with its <em>current</em> content (the page cache: every {@code write} and
 *       {@code truncate} lands here) and its <em>durable</em> content (a copy taken by the last
 *       {@link StorageFile#force()}).</li>
 *   <li>A directory has <em>current</em> entries (name to inode: every create, rename and delete lands
 *       here) and <em>durable</em> entries (a copy taken by the last {@link #syncDirectory}). A rename
 *       between two directories changes both; each side is durable after the sync of its own
 *       directory.</li>
 *   <li>Simplification: directories themselves are durable as soon as {@link #createDirectories}
 *       creates them (as the interface promises), and deleting an empty directory is durable at once.
 *       Like {@code FileStorageEnv}, which fsyncs the parent of a new directory, creating a directory
 *       also makes the pending name changes of its parent durable.</li>
 * </ul>
 *
 * <h2>What survives</h2>
 * {@link #cutPower()} is a power cut followed by a reboot: every directory's entries revert to its
 * durable entries, and every file still named reverts to its durable content. So a file survives only
 * if its name was synced, and then only with the bytes (and length) of its last force: unsynced
 * creates vanish, unsynced deletes and renames are undone, unforced writes and truncations are lost.
 * Writes are atomic with respect to a cut (no torn writes are modeled). {@link #crashProcess()} is
 * {@code kill -9}: the operating system keeps everything, only the process dies. After either, every
 * {@link StorageFile} opened before is dead: each call on it throws {@code IOException("power was
 * cut")} or {@code IOException("process was killed")} (closing it is allowed and does nothing), so a
 * straggling thread of the "dead" process cannot change the state the "restarted" one sees. The env
 * itself stays usable, as after a restart.
 *
 * <h2>Faults</h2>
 * Counted from the call that sets them: {@link #failForceAt} fails one force and {@link #failForceAfter} every
 * force from then on (fsync errors), {@link #failWriteAt} fails one write (an I/O error), and
 * {@link #failWritesAfterBytes} fills the disk. {@link #clearFaults} removes them all; they stay set across
 * cuts and crashes (they belong to the disk). {@link #injectedFailures} lists the calls they failed.
 * {@link #flipBit} and {@link #writeRaw} corrupt the medium (both the current and the durable content).
 *
 * <h2>Thread-safety</h2>
 * Every operation, of the env and of its files, may be called from any thread: all of them take one
 * env-wide lock, so each is atomic with respect to the others (a cut happens entirely before or
 * entirely after any concurrent write).
 */
public final class SimulatedStorageEnv implements StorageEnv {

    static final String POWER_CUT = "power was cut";
    static final String PROCESS_KILLED = "process was killed";
    static final String FSYNC_FAILURE = "injected fsync failure";
    static final String WRITE_FAILURE = "injected write failure";
    static final String DISK_FULL = "No space left on device";

    private final Object lock = new Object();
    private final Map<Path, Directory> directories = new HashMap<>();
    /**
     * Why each "lifetime" of the process ended: a handle opened while {@code deaths.size() == k} is alive
     * until the k-th death, and then fails with {@code deaths.get(k)}.
     */
    private final List<String> deaths = new ArrayList<>();

    /** Forces that will still succeed before one fails; negative when no fault is set. */
    private long forcesBeforeFailure = -1;
    /** Whether the force fault stays set after it fired ({@link #failForceAfter}) or clears ({@link #failForceAt}). */
    private boolean forceFailureRepeats;
    /** Writes that will still succeed before one fails; negative when no fault is set. */
    private long writesBeforeFailure = -1;
    /** Bytes that still fit on the disk; negative when no fault is set. */
    private long spaceLeft = -1;
    private long forceCount;
    private long writeCount;
    private long bytesWritten;
    private final List<InjectedFailure> injectedFailures = new ArrayList<>();

    /**
     * A call that an injected fault failed.
     *
     * @param call "force" or "write"
     * @param path the file's name when the call failed (the name it was opened under if it has none left)
     * @param message the message of the IOException thrown
     */
    public record InjectedFailure(String call, Path path, String message) {
    }

    // ---------------------------------------------------------------- StorageEnv

    @Override
    public StorageFile openForRead(Path path) throws IOException {
        synchronized (lock) {
            Path p = key(path);
            Inode inode = existingDirectory(p.getParent(), p).current.get(name(p));
            if (inode == null) {
                throw directories.containsKey(p) ? isADirectory(p) : new NoSuchFileException(p.toString());
            }
            return new Handle(inode, p, false);
        }
    }

    @Override
    public StorageFile openForWrite(Path path) throws IOException {
        synchronized (lock) {
            Path p = key(path);
            Directory dir = existingDirectory(p.getParent(), p);
            if (directories.containsKey(p)) {
                throw isADirectory(p);
            }
            // The new name is current only: it is durable after syncDirectory of the parent.
            Inode inode = dir.current.computeIfAbsent(name(p), n -> new Inode());
            return new Handle(inode, p, true);
        }
    }

    @Override
    public boolean exists(Path path) {
        synchronized (lock) {
            Path p = key(path);
            return directories.containsKey(p) || fileOrNull(p) != null;
        }
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        synchronized (lock) {
            Path from = key(source);
            Path to = key(target);
            Directory fromDir = existingDirectory(from.getParent(), from);
            Inode inode = fromDir.current.get(name(from));
            if (inode == null) {
                throw directories.containsKey(from)
                        ? new FileSystemException(from.toString(), null, "renaming directories is not modeled")
                        : new NoSuchFileException(from.toString());
            }
            Directory toDir = existingDirectory(to.getParent(), to);
            if (directories.containsKey(to)) {
                throw isADirectory(to);
            }
            // One step under the lock: no one can observe neither or both names.
            fromDir.current.remove(name(from));
            toDir.current.put(name(to), inode);
        }
    }

    @Override
    public boolean delete(Path path) throws IOException {
        synchronized (lock) {
            Path p = key(path);
            if (directories.containsKey(p)) {
                deleteDirectory(p);
                return true;
            }
            Directory dir = directories.get(p.getParent());
            return dir != null && dir.current.remove(name(p)) != null;
        }
    }

    @Override
    public List<Path> list(Path dir) {
        synchronized (lock) {
            Directory d = directories.get(key(dir));
            List<Path> files = new ArrayList<>();
            if (d != null) {
                // Resolved against the caller's path, as FileStorageEnv does.
                d.current.keySet().forEach(n -> files.add(dir.resolve(n)));
            }
            files.sort(null);
            return files;
        }
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        synchronized (lock) {
            Path p = key(dir);
            if (fileOrNull(p) != null) {
                throw new FileAlreadyExistsException(p.toString(), null, "a file has that name");
            }
            if (directories.containsKey(p)) {
                return;
            }
            Path parent = p.getParent();
            if (parent != null) {
                createDirectories(parent);
                directories.get(parent).sync();
            }
            directories.put(p, new Directory());
        }
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        synchronized (lock) {
            Path p = key(dir);
            Directory d = directories.get(p);
            if (d == null) {
                throw new NoSuchFileException(p.toString());
            }
            d.sync();
        }
    }

    // ---------------------------------------------------------------- power cut and crash

    private final java.util.Set<Path> locks = new java.util.HashSet<>();

    /** Locks are per env (one simulated machine): a second lock of the same path fails with LOCKED. */
    @Override
    public AutoCloseable lock(Path path) throws IOException {
        Path key = path.toAbsolutePath().normalize();
        synchronized (this) {
            if (!locks.add(key)) {
                throw new dev.redoubt.common.StorageException(dev.redoubt.common.ErrorCode.LOCKED,
                        key + " is locked by another open database");
            }
        }
        return () -> {
            synchronized (this) {
                locks.remove(key);
            }
        };
    }

    /**
     * Cuts the power and reboots: every name and byte not made durable is lost (see the class comment),
     * and every file handle opened before is dead ({@code IOException("power was cut")}).
     */
    public void cutPower() {
        synchronized (lock) {
            deaths.add(POWER_CUT);
            for (Directory d : directories.values()) {
                d.revertToDurable();
            }
        }
    }

    /**
     * Cuts the power in the middle of the last unsynced write of every file: as {@link #cutPower()}, except
     * that each file's last write since its last fsync keeps a prefix ending at a 512-byte sector boundary
     * (chosen by {@code random}), as a disk that persisted some sectors of a write and not the rest would.
     */
    public void cutPowerTearingWrites(java.util.Random random) {
        synchronized (lock) {
            deaths.add(POWER_CUT);
            java.util.Set<Inode> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (Directory d : directories.values()) {
                for (Inode inode : d.revertNamesToDurable()) {
                    if (seen.add(inode)) {
                        inode.revertToDurableTearingLastWrite(random::nextInt);
                    }
                }
            }
        }
    }

    /**
     * Kills the process ({@code kill -9}): nothing is lost, but every file handle opened before is dead
     * ({@code IOException("process was killed")}).
     */
    public void crashProcess() {
        synchronized (lock) {
            deaths.add(PROCESS_KILLED);
        }
    }

    // ---------------------------------------------------------------- fault injection

    /**
     * Makes the {@code forcesFromNow}-th force from now, and every force after it, throw
     * {@code IOException("injected fsync failure")}; {@code 1} fails the very next force. A failed force
     * makes nothing durable; the file's current content is kept. Replaces a fault set by {@link #failForceAt}.
     */
    public void failForceAfter(int forcesFromNow) {
        setForceFault(forcesFromNow, true);
    }

    /**
     * Makes only the {@code forcesFromNow}-th force from now throw {@code IOException("injected fsync
     * failure")}; {@code 1} fails the very next force, and forces after the failed one succeed again. That is
     * how Linux reports a failed writeback on most file systems: once, after which the pages count as clean
     * and the next fsync succeeds though the data never reached the disk (PostgreSQL's "fsyncgate"). So a
     * caller that retries sees success; only one that treats the first failure as fatal stays correct. A
     * failed force makes nothing durable; the file's current content is kept. Replaces a fault set by
     * {@link #failForceAfter}.
     */
    public void failForceAt(int forcesFromNow) {
        setForceFault(forcesFromNow, false);
    }

    private void setForceFault(int forcesFromNow, boolean repeats) {
        if (forcesFromNow < 1) {
            throw new IllegalArgumentException("forcesFromNow must be at least 1, was " + forcesFromNow);
        }
        synchronized (lock) {
            forcesBeforeFailure = forcesFromNow - 1L;
            forceFailureRepeats = repeats;
        }
    }

    /**
     * Makes only the {@code writesFromNow}-th write from now throw {@code IOException("injected write
     * failure")} (an {@code EIO}); {@code 1} fails the very next write. The failed write changes nothing (no
     * byte written, the buffer's position unchanged); writes after it succeed again. Counted are the writes
     * on live, writable handles, empty ones included.
     */
    public void failWriteAt(int writesFromNow) {
        if (writesFromNow < 1) {
            throw new IllegalArgumentException("writesFromNow must be at least 1, was " + writesFromNow);
        }
        synchronized (lock) {
            writesBeforeFailure = writesFromNow - 1L;
        }
    }

    /**
     * Fills the disk after {@code bytes} more written bytes: the write that crosses the limit writes the
     * part that fits (and advances its buffer past it), then throws {@code IOException("No space left on
     * device")} (the text {@code StorageException.fromIo} maps to {@code ErrorCode.NO_SPACE}), as does every
     * later non-empty write. A budget of written bytes, not a model of free blocks: a byte written over an
     * existing one counts too, a delete frees nothing. Zero-filled gaps and truncations use no space.
     */
    public void failWritesAfterBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must not be negative, was " + bytes);
        }
        synchronized (lock) {
            spaceLeft = bytes;
        }
    }

    /** Removes every fault not yet fired, and the full disk: later forces and writes succeed. */
    public void clearFaults() {
        synchronized (lock) {
            forcesBeforeFailure = -1;
            writesBeforeFailure = -1;
            spaceLeft = -1;
        }
    }

    /** Every call an injected fault (failed force or write, full disk) failed so far, oldest first. */
    public List<InjectedFailure> injectedFailures() {
        synchronized (lock) {
            return List.copyOf(injectedFailures);
        }
    }

    /** The number of forces that succeeded, over the env's life. */
    public long forceCount() {
        synchronized (lock) {
            return forceCount;
        }
    }

    /** The number of writes that succeeded (every byte written), over the env's life. */
    public long writeCount() {
        synchronized (lock) {
            return writeCount;
        }
    }

    /** The number of bytes written through file handles (including the fitting part of a disk-full write). */
    public long bytesWritten() {
        synchronized (lock) {
            return bytesWritten;
        }
    }

    // ---------------------------------------------------------------- inspection and media corruption

    /** The file's current content (what a reader sees now, durable or not). */
    public byte[] readAllBytes(Path path) throws NoSuchFileException {
        synchronized (lock) {
            return existingFile(key(path)).currentBytes();
        }
    }

    /**
     * Media corruption: flips bit {@code bit} (0 = least significant) of the byte at {@code offset}, in
     * the current and in the durable content (where each holds it), so that the damage survives a cut.
     */
    public void flipBit(Path path, long offset, int bit) throws NoSuchFileException {
        if (bit < 0 || bit > 7) {
            throw new IllegalArgumentException("bit must be in 0..7, was " + bit);
        }
        synchronized (lock) {
            existingFile(key(path)).flipBoth(offset, (byte) (1 << bit));
        }
    }

    /**
     * Media corruption: overwrites the file's bytes at {@code offset} with {@code bytes}, in the current
     * content and in the durable content (where each holds them), so that the damage survives a cut.
     * The range must lie within the current content: corruption never changes a file's length.
     */
    public void writeRaw(Path path, long offset, byte[] bytes) throws NoSuchFileException {
        synchronized (lock) {
            existingFile(key(path)).overwriteBoth(offset, bytes.clone());
        }
    }

    // ---------------------------------------------------------------- helpers (called under the lock)

    private static Path key(Path path) {
        return path.toAbsolutePath().normalize();
    }

    private static String name(Path p) {
        return p.getFileName().toString();
    }

    /** The directory that must hold {@code path}; NoSuchFileException (naming the path) if it is missing. */
    private Directory existingDirectory(Path dir, Path path) throws NoSuchFileException {
        Directory d = dir == null ? null : directories.get(dir);
        if (d == null) {
            throw new NoSuchFileException(path.toString(), null, "no such directory: " + dir);
        }
        return d;
    }

    private Inode fileOrNull(Path p) {
        Directory d = p.getParent() == null ? null : directories.get(p.getParent());
        return d == null ? null : d.current.get(name(p));
    }

    private Inode existingFile(Path p) throws NoSuchFileException {
        Inode inode = fileOrNull(p);
        if (inode == null) {
            throw new NoSuchFileException(p.toString());
        }
        return inode;
    }

    private void deleteDirectory(Path p) throws DirectoryNotEmptyException {
        boolean hasSubdirectory = directories.keySet().stream().anyMatch(d -> p.equals(d.getParent()));
        if (!directories.get(p).isEmpty() || hasSubdirectory) {
            throw new DirectoryNotEmptyException(p.toString());
        }
        directories.remove(p);
    }

    private static FileSystemException isADirectory(Path p) {
        return new FileSystemException(p.toString(), null, "Is a directory");
    }

    /** Takes up to {@code wanted} bytes of the disk's free space; returns how many fit. */
    private int allocate(int wanted) {
        if (spaceLeft < 0) {
            return wanted;
        }
        int granted = (int) Math.min(wanted, spaceLeft);
        spaceLeft -= granted;
        return granted;
    }

    private void checkForceFault(Handle handle) throws IOException {
        if (forcesBeforeFailure == 0) {
            if (!forceFailureRepeats) {
                forcesBeforeFailure = -1;
            }
            throw injected("force", handle, FSYNC_FAILURE);
        }
        if (forcesBeforeFailure > 0) {
            forcesBeforeFailure--;
        }
    }

    private void checkWriteFault(Handle handle) throws IOException {
        if (writesBeforeFailure == 0) {
            writesBeforeFailure = -1;
            throw injected("write", handle, WRITE_FAILURE);
        }
        if (writesBeforeFailure > 0) {
            writesBeforeFailure--;
        }
    }

    /** Records the failure of {@code call} on {@code handle}'s file; returns the exception to throw. */
    private IOException injected(String call, Handle handle, String message) {
        injectedFailures.add(new InjectedFailure(call, currentPathOf(handle), message));
        // A full disk is recognised by the real file layer as a NoSpaceException: the same here.
        return message.equals(DISK_FULL) ? new dev.redoubt.common.NoSpaceException(message, null)
                : new IOException(message);
    }

    /** The name the handle's file has now (a linear search: failures are rare), else the one it was opened under. */
    private Path currentPathOf(Handle handle) {
        for (Map.Entry<Path, Directory> d : directories.entrySet()) {
            for (Map.Entry<String, Inode> e : d.getValue().current.entrySet()) {
                if (e.getValue() == handle.inode) {
                    return d.getKey().resolve(e.getKey());
                }
            }
        }
        return handle.openedAs;
    }

    // ---------------------------------------------------------------- open files

    /** An open file: like a file descriptor, it follows its inode through renames and deletes. */
    private final class Handle implements StorageFile {
        private final Inode inode;
        private final Path openedAs;
        private final boolean writable;
        /** The process lifetime this handle belongs to (an index into {@code deaths}). */
        private final int lifetime;
        private boolean closed;

        Handle(Inode inode, Path openedAs, boolean writable) {
            this.inode = inode;
            this.openedAs = openedAs;
            this.writable = writable;
            this.lifetime = deaths.size();
        }

        @Override
        public int read(long position, ByteBuffer dst) throws IOException {
            synchronized (lock) {
                checkUsable();
                if (position < 0) {
                    throw new IllegalArgumentException("negative position " + position);
                }
                return inode.read(position, dst);
            }
        }

        @Override
        public void write(long position, ByteBuffer src) throws IOException {
            synchronized (lock) {
                checkWritable();
                if (position < 0) {
                    throw new IllegalArgumentException("negative position " + position);
                }
                checkWriteFault(this);
                int wanted = src.remaining();
                int fits = allocate(wanted);
                inode.write(position, src, fits);
                bytesWritten += fits;
                if (fits < wanted) {
                    throw injected("write", this, DISK_FULL);
                }
                writeCount++;
            }
        }

        @Override
        public void force() throws IOException {
            synchronized (lock) {
                checkUsable();
                checkForceFault(this);
                inode.force();
                forceCount++;
            }
        }

        @Override
        public long size() throws IOException {
            synchronized (lock) {
                checkUsable();
                return inode.length();
            }
        }

        @Override
        public void truncate(long size) throws IOException {
            synchronized (lock) {
                checkWritable();
                inode.truncate(size);
            }
        }

        /** Never throws: closing a handle of a dead process (after a cut or crash) is harmless. */
        @Override
        public void close() {
            synchronized (lock) {
                closed = true;
            }
        }

        private void checkUsable() throws IOException {
            if (lifetime < deaths.size()) {
                throw new IOException(deaths.get(lifetime));
            }
            if (closed) {
                throw new ClosedChannelException();
            }
        }

        private void checkWritable() throws IOException {
            checkUsable();
            if (!writable) {
                throw new NonWritableChannelException();
            }
        }
    }
}
