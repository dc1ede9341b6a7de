package dev.redoubt.engine;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageFile;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One process lifetime on a {@link SimulatedStorageEnv} (the disk): a Db opened on it dies with the power.
 *
 * <p>Why not the disk directly: after a cut the simulated env kills only the file handles opened before it, so a
 * straggling flush or compaction thread of the dead Db could still rename, delete or create names in the state
 * the next process recovers from. Here the death is atomic with respect to every call made through this env
 * (a read-write gate: calls share it, the death takes it exclusively) and every later call fails with
 * {@code IOException("the process is dead: ...")}, as a process without power does nothing. The dead process's
 * directory locks are released with it, as the operating system does.
 *
 * <p>A death can also be armed at the n-th storage call from now, counting every thread's calls or only those of
 * threads other than the owner (the Db's flush, compaction and WAL flusher threads): the calling thread then
 * cuts the power itself, just before its call would have run, and the call fails. That lands a cut inside a
 * segment roll, a table write, a manifest switch or a recovery, wherever the n-th call happens to be.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
final class ProcessEnv implements StorageEnv {

    /** How the process ends. */
    enum Death {
        /** {@link SimulatedStorageEnv#cutPower()}. */
        POWER_CUT,
        /** {@link SimulatedStorageEnv#cutPowerTearingWrites}: each file's last unsynced write keeps some sectors. */
        TORN_POWER_CUT,
        /** {@link SimulatedStorageEnv#crashProcess()} ({@code kill -9}): the OS keeps every written byte. */
        PROCESS_CRASH
    }

    /** A call made through this env. */
    private interface IoCall<T> {
        T run() throws IOException;
    }

    private final SimulatedStorageEnv disk;
    private final Thread owner;
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private final List<AutoCloseable> locks = new ArrayList<>(); // guarded by itself
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong backgroundCalls = new AtomicLong();
    private final AtomicLong walRolls = new AtomicLong();
    private final Map<String, AtomicLong> tablesByThread = new ConcurrentHashMap<>();
    private volatile boolean dead;
    private volatile String cause = "alive";
    private volatile String armedCallThread;

    // The armed death: fires when the countdown reaches zero on a counted call.
    private final AtomicLong countdown = new AtomicLong(-1);
    private volatile boolean armedBackgroundOnly;
    private volatile Death armedDeath;
    private volatile Random armedTearing;

    /** {@code owner}: the thread whose calls an armed background-only death does not count (the test's writer). */
    ProcessEnv(SimulatedStorageEnv disk, Thread owner) {
        this.disk = disk;
        this.owner = owner;
    }

    // ------------------------------------------------------------------------------------------ death

    /**
     * Ends the process now, unless it is already dead; returns whether this call ended it. {@code tearing} picks
     * the sectors a torn cut keeps.
     */
    boolean die(Death how, Random tearing, String why) {
        return die(how, tearing, why, null);
    }

    /** {@code armedCallThread}: who made the call an armed death landed in, or null for a call of {@link #die}. */
    private boolean die(Death how, Random tearing, String why, String armedCallThread) {
        gate.writeLock().lock();
        try {
            if (dead) {
                return false;
            }
            switch (how) {
                case POWER_CUT -> disk.cutPower();
                case TORN_POWER_CUT -> disk.cutPowerTearingWrites(tearing);
                case PROCESS_CRASH -> disk.crashProcess();
                default -> throw new IllegalArgumentException(String.valueOf(how));
            }
            cause = how + " " + why;
            this.armedCallThread = armedCallThread;
            dead = true; // last: whoever sees it sees the fields above
        } finally {
            gate.writeLock().unlock();
        }
        synchronized (locks) {
            locks.forEach(ProcessEnv::release);
            locks.clear();
        }
        return true;
    }

    private static void release(AutoCloseable lock) {
        try {
            lock.close();
        } catch (Exception ignored) {
            // the simulated lock's release does not fail
        }
    }

    /**
     * Arms a death at the {@code n}-th counted storage call from now (1 = the next one); {@code backgroundOnly}
     * counts only calls of threads other than the owner.
     */
    void arm(long n, boolean backgroundOnly, Death how, Random tearing) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, got " + n);
        }
        armedBackgroundOnly = backgroundOnly;
        armedDeath = how;
        armedTearing = tearing;
        countdown.set(n);
    }

    void disarm() {
        countdown.set(-1);
    }

    /** Whether the armed death ended the process (rather than a call of {@link #die}). */
    boolean diedAtArmedCall() {
        return dead && armedCallThread != null;
    }

    /** The thread whose call the armed death landed in ("the writer" for the owner), or null. */
    String armedCallThread() {
        return armedCallThread;
    }

    boolean dead() {
        return dead;
    }

    /** How and where the process died, for failure messages. */
    String cause() {
        return cause;
    }

    long calls() {
        return calls.get();
    }

    long backgroundCalls() {
        return backgroundCalls.get();
    }

    /** Renames into the WAL directory: segment rolls (and the first segment of a log). */
    long walRolls() {
        return walRolls.get();
    }

    /** Tables published (renamed to their final name), by the name of the thread that wrote them. */
    long tablesPublishedBy(String threadName) {
        AtomicLong n = tablesByThread.get(threadName);
        return n == null ? 0 : n.get();
    }

    private <T> T call(String what, Path path, IoCall<T> call) throws IOException {
        boolean background = Thread.currentThread() != owner;
        calls.incrementAndGet();
        if (background) {
            backgroundCalls.incrementAndGet();
        }
        if ((background || !armedBackgroundOnly) && countdown.get() > 0 && countdown.decrementAndGet() == 0) {
            die(armedDeath, armedTearing, "at " + what + " " + path + " by " + Thread.currentThread().getName(),
                    background ? Thread.currentThread().getName() : "the writer");
        }
        gate.readLock().lock();
        try {
            if (dead) {
                throw deadProcess();
            }
            return call.run();
        } finally {
            gate.readLock().unlock();
        }
    }

    private IOException deadProcess() {
        return new IOException("the process is dead: " + cause);
    }

    // ------------------------------------------------------------------------------------------ StorageEnv

    @Override
    public StorageFile openForRead(Path path) throws IOException {
        return new File(path, call("openForRead", path, () -> disk.openForRead(path)));
    }

    @Override
    public StorageFile openForWrite(Path path) throws IOException {
        return new File(path, call("openForWrite", path, () -> disk.openForWrite(path)));
    }

    @Override
    public boolean exists(Path path) {
        try {
            return call("exists", path, () -> disk.exists(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        call("rename", source, () -> {
            disk.rename(source, target);
            if (target.getParent() != null && target.getParent().endsWith("wal")) {
                walRolls.incrementAndGet();
            }
            if (target.getFileName().toString().endsWith(".sst")) {
                tablesByThread.computeIfAbsent(Thread.currentThread().getName(), n -> new AtomicLong())
                        .incrementAndGet();
            }
            return null;
        });
    }

    @Override
    public boolean delete(Path path) throws IOException {
        return call("delete", path, () -> disk.delete(path));
    }

    @Override
    public List<Path> list(Path dir) throws IOException {
        return call("list", dir, () -> disk.list(dir));
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        call("createDirectories", dir, () -> {
            disk.createDirectories(dir);
            return null;
        });
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        call("syncDirectory", dir, () -> {
            disk.syncDirectory(dir);
            return null;
        });
    }

    @Override
    public AutoCloseable lock(Path path) throws IOException {
        AutoCloseable held = call("lock", path, () -> disk.lock(path));
        AtomicBoolean released = new AtomicBoolean();
        // Released once: by its owner, or by the death of the process, whichever comes first.
        AutoCloseable once = () -> {
            if (released.compareAndSet(false, true)) {
                held.close();
            }
        };
        synchronized (locks) {
            if (dead) {
                release(held); // died between taking the lock and recording it
                throw deadProcess();
            }
            locks.add(once);
        }
        return once;
    }

    /** A file handle whose every call goes through the gate (and counts toward an armed death). */
    private final class File implements StorageFile {
        private final Path path;
        private final StorageFile file;

        File(Path path, StorageFile file) {
            this.path = path;
            this.file = file;
        }

        @Override
        public int read(long position, ByteBuffer dst) throws IOException {
            return call("read", path, () -> file.read(position, dst));
        }

        @Override
        public void write(long position, ByteBuffer src) throws IOException {
            call("write", path, () -> {
                file.write(position, src);
                return null;
            });
        }

        @Override
        public void force() throws IOException {
            call("force", path, () -> {
                file.force();
                return null;
            });
        }

        @Override
        public long size() throws IOException {
            return call("size", path, file::size);
        }

        @Override
        public void truncate(long size) throws IOException {
            call("truncate", path, () -> {
                file.truncate(size);
                return null;
            });
        }

        /** Closing never fails, even after the death: the simulated handle's close is harmless. */
        @Override
        public void close() throws IOException {
            file.close();
        }
    }
}
