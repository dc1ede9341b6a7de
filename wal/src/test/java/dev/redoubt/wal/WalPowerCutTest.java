package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageFile;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongFunction;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A seeded, replayable power-cut loop over the WAL on {@link SimulatedStorageEnv}.
 *
 * <p>Each seed builds a fresh simulated disk and runs one to four <em>sessions</em> on {@code /db}. A session
 * appends with every API the log has ({@code append} SYNC and ASYNC, {@code appendAsync} futures,
 * {@code appendDeferred} + {@code awaitDurable}/{@code awaitWritten}), from the test thread alone or from one
 * to four writer threads, with occasional {@code truncateBefore}. It ends with a clean close, or with the death
 * of the "process": mostly {@link SimulatedStorageEnv#cutPower()}, sometimes
 * {@link SimulatedStorageEnv#crashProcess()}, either at a random moment chosen by the test thread while writers
 * run (they get exceptions and stop) or at a random storage operation of the log itself (inside a segment roll,
 * a {@code truncateBefore}, a recovery: see {@link LifetimeEnv}). Opening may itself be cut. Then the log is
 * reopened (default {@link RecoveryMode#TOLERATE_CORRUPTED_TAIL}) and read from {@link Wal#startLsn()}, and:
 * <ul>
 *   <li>the log opens, and the reader ends at {@link WalReader.Status#END};</li>
 *   <li>every SYNC-acknowledged record (append returned, future completed, awaitDurable returned; and every
 *       record a clean close or an earlier recovery vouched for) is present at its LSN with its exact payload
 *       and type; after process crashes only (no power cut), so is every ASYNC-acknowledged record;</li>
 *   <li>the surviving records are an LSN prefix of what was appended: a record is missing only if it lies after
 *       the last surviving one, or in a segment wholly below a {@code truncateBefore} point;</li>
 *   <li>no record appears that was never appended (payloads are self-describing: seed, writer, sequence and a
 *       CRC32C), and none at an LSN other than the one its append returned.</li>
 * </ul>
 * The next session continues on the recovered log, so recovery also runs over earlier deaths' tails.
 *
 * <p>Seeds {@code 0..N-1}, N = {@value #DEFAULT_SEEDS} per test by default; {@code -Dredoubt.powercut.seeds=N}
 * for long runs (also pass {@code -Djunit.jupiter.execution.timeout.mode=disabled}; each seed keeps its own time
 * bound), {@code -Dredoubt.powercut.seed=N} replays one seed. A failure prints the seed and the replay command.
 * A seed fixes the operations, sizes and death points; thread interleavings are not replayed exactly.
 */
class WalPowerCutTest {
    static final String SEEDS_PROPERTY = "redoubt.powercut.seeds";
    static final String SEED_PROPERTY = "redoubt.powercut.seed";
    static final int DEFAULT_SEEDS = 1500;
    /** A seed takes milliseconds; one that takes longer than this is reported as hung, with its threads' stacks. */
    private static final long SEED_TIMEOUT_SECONDS = 20;
    private static final int MAX_REPORTED_FAILURES = 20;
    /**
     * A hung seed leaves its threads behind (a deadlocked appender may even spin), which would slow and muddle
     * every later seed: the loop stops at the first one.
     */
    private static final int MAX_HUNG_SEEDS = 1;

    private static final Path DB = Path.of("/db");
    private static final int PAYLOAD_HEADER = 20;
    private static final int MAX_PAYLOAD = 2048;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void syncAcknowledgedRecordsSurvivePowerCutAtRandomPoints() throws Exception {
        runSeeds("syncAcknowledgedRecordsSurvivePowerCutAtRandomPoints", seed -> new Scenario(seed, false));
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void syncAcknowledgedRecordsSurvivePowerCutAmidFourConcurrentSyncAppenders() throws Exception {
        runSeeds("syncAcknowledgedRecordsSurvivePowerCutAmidFourConcurrentSyncAppenders",
                seed -> new Scenario(seed, true));
    }

    // ------------------------------------------------------------------------------------------ seed loop

    private static void runSeeds(String method, LongFunction<Scenario> scenarios) throws Exception {
        long[] seeds;
        String one = System.getProperty(SEED_PROPERTY);
        if (one != null && !one.isBlank()) {
            seeds = new long[] {Long.parseLong(one.trim())};
        } else {
            String n = System.getProperty(SEEDS_PROPERTY);
            int count = n == null || n.isBlank() ? DEFAULT_SEEDS : Integer.parseInt(n.trim());
            seeds = new long[count];
            for (int i = 0; i < count; i++) {
                seeds[i] = i;
            }
        }
        List<String> failures = new ArrayList<>();
        AssertionError first = null;
        long started = System.nanoTime();
        long records = 0;
        long cuts = 0;
        long crashes = 0;
        int hung = 0;
        int ran = 0;
        try {
            for (long seed : seeds) {
                ran++;
                Scenario scenario = scenarios.apply(seed);
                FutureTask<Void> run = new FutureTask<>(() -> {
                    scenario.run();
                    return null;
                });
                Set<Thread> before = Thread.getAllStackTraces().keySet();
                // A fresh thread per seed: the WAL keeps per-thread state for every log a thread appended to.
                Thread thread = new Thread(run, "powercut-seed-" + seed);
                thread.setDaemon(true);
                thread.start();
                Throwable problem = null;
                try {
                    run.get(SEED_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    problem = e.getCause();
                } catch (TimeoutException e) {
                    problem = new AssertionError("seed did not finish within " + SEED_TIMEOUT_SECONDS
                            + " s (hung?); its threads:\n" + threadDump(before));
                    run.cancel(true);
                    scenario.abandon();
                    hung++;
                }
                records += scenario.recordsVerified;
                cuts += scenario.powerCuts;
                crashes += scenario.crashes;
                if (problem != null) {
                    String message = "power-cut seed " + seed + " failed: " + problem + "\n  replay: "
                            + replayCommand(method, seed) + "\n  trace of the seed:\n" + scenario.trace();
                    if (first == null) {
                        first = new AssertionError(message, problem);
                    }
                    failures.add("seed " + seed + ": " + firstLine(String.valueOf(problem.getMessage())));
                    if (failures.size() >= MAX_REPORTED_FAILURES || hung >= MAX_HUNG_SEEDS) {
                        failures.add("(stopped after " + failures.size() + " failing seeds, " + hung + " of them"
                                + " hung: a hung seed leaves its threads behind)");
                        break;
                    }
                }
            }
        } finally {
            System.out.printf("%s: %d seeds run of %d, %d power cuts, %d process crashes, %d records verified, "
                    + "%.1f s%n", method, ran, seeds.length, cuts, crashes, records, (System.nanoTime() - started) / 1e9);
        }
        if (first != null) {
            throw new AssertionError(failures.size() + " failing seed(s) of " + ran + " run:\n  "
                    + String.join("\n  ", failures) + "\n\nfirst failure: " + first.getMessage(), first.getCause());
        }
    }

    static String replayCommand(String method, long seed) {
        return "mvn -B -pl common,test-support,wal -am test -Dsurefire.failIfNoSpecifiedTests=false -Dtest='"
                + WalPowerCutTest.class.getSimpleName() + "#" + method + "' -D" + SEED_PROPERTY + "=" + seed;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Stacks of the threads started since {@code before} was taken. */
    private static String threadDump(Set<Thread> before) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            String name = e.getKey().getName();
            if (before.contains(e.getKey())) {
                continue;
            }
            sb.append("  \"").append(name).append("\" ").append(e.getKey().getState()).append('\n');
            for (StackTraceElement f : e.getValue()) {
                sb.append("      at ").append(f).append('\n');
            }
        }
        return sb.toString();
    }

    static String stackOf(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    static String stackOf(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement f : t.getStackTrace()) {
            sb.append("      at ").append(f).append('\n');
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------ the model

    /** How a process lifetime ends. */
    enum Death {
        /** {@link SimulatedStorageEnv#cutPower()}: only what was fsynced (and directory-synced) survives. */
        POWER_CUT,
        /** {@link SimulatedStorageEnv#crashProcess()} (kill -9): everything written to the OS survives. */
        PROCESS_CRASH
    }

    /** One append attempt: what was sent, where the log put it, and how it was acknowledged. */
    static final class Rec {
        final int writer;
        final int seq;
        final RecordType type;
        final byte[] payload;
        final String api;
        volatile long lsn = -1;
        /** Acknowledged as fsynced (or vouched for: a clean close, or an earlier recovery read it back). */
        volatile boolean durable;
        /** Acknowledged as written to the OS. */
        volatile boolean written;

        Rec(int writer, int seq, RecordType type, byte[] payload, String api) {
            this.writer = writer;
            this.seq = seq;
            this.type = type;
            this.payload = payload;
            this.api = api;
        }

        @Override
        public String toString() {
            return "record(writer " + writer + " seq " + seq + ", " + type + ", " + payload.length + " bytes, via "
                    + api + ", LSN " + lsn + (durable ? ", SYNC-acknowledged" : written ? ", ASYNC-acknowledged"
                    : ", unacknowledged") + ")";
        }
    }

    /** A record read back after recovery. */
    record Got(long lsn, RecordType type, byte[] payload) {
    }

    /** Thrown inside a writer to stop it once its process is dead. */
    private static final class ProcessDied extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProcessDied() {
            super(null, null, false, false);
        }
    }

    /** Self-describing payload: seed, writer, sequence and a CRC32C of the rest; shorter ones are hash bytes. */
    static byte[] payload(long seed, int writer, int seq, int length, boolean compressible) {
        byte[] p = new byte[length];
        SplittableRandom content = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ ((long) writer << 32) ^ seq);
        if (length < PAYLOAD_HEADER) {
            for (int i = 0; i < length; i++) {
                p[i] = (byte) content.nextInt();
            }
            return p;
        }
        ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, seed).putInt(8, writer).putInt(12, seq);
        if (compressible) {
            int period = 1 + content.nextInt(8);
            for (int i = PAYLOAD_HEADER; i < length; i++) {
                p[i] = (byte) ('a' + (i / period) % 4);
            }
        } else {
            for (int i = PAYLOAD_HEADER; i < length; i++) {
                p[i] = (byte) content.nextInt();
            }
        }
        b.putInt(16, payloadCrc(p));
        return p;
    }

    static int payloadCrc(byte[] p) {
        CRC32C crc = new CRC32C();
        crc.update(p, 0, 16);
        crc.update(p, PAYLOAD_HEADER, p.length - PAYLOAD_HEADER);
        return (int) crc.getValue();
    }

    // ------------------------------------------------------------------------------------------ process lifetimes

    /**
     * The file layer as one process lifetime sees it: every call goes to the shared simulated disk until the
     * lifetime ends, and fails afterwards, so no straggling thread of a dead process (the flusher preparing a
     * segment, a writer half-way through a roll) can touch what the next process finds. The lifetime ends when
     * the test says so, or at its {@code n}-th mutating operation (write, force, truncate, create, rename,
     * delete, directory sync), which is then not performed: so a death can fall between any two steps of a roll,
     * a truncation or a recovery.
     */
    static final class LifetimeEnv implements StorageEnv {
        private final SimulatedStorageEnv disk;
        private final Scenario scenario;
        private final ReentrantReadWriteLock deathLock = new ReentrantReadWriteLock();
        private final AtomicLong mutations = new AtomicLong();
        private volatile long dieAtMutation = Long.MAX_VALUE;
        private volatile Death scheduled;
        private volatile Death death;

        LifetimeEnv(SimulatedStorageEnv disk, Scenario scenario) {
            this.disk = disk;
            this.scenario = scenario;
        }

        boolean dead() {
            return death != null;
        }

        long mutations() {
            return mutations.get();
        }

        /** Ends this lifetime just before its {@code n}-th mutating operation from now. */
        void dieAtMutation(long n, Death how) {
            scheduled = how;
            dieAtMutation = mutations.get() + n;
        }

        void disarm() {
            dieAtMutation = Long.MAX_VALUE;
        }

        /** Ends the lifetime now (no-op if it has ended): cuts the power or crashes the process. */
        void die(Death how) {
            deathLock.writeLock().lock();
            try {
                if (death != null) {
                    return;
                }
                death = how;
                scenario.died(how, mutations.get());
                if (how == Death.POWER_CUT) {
                    disk.cutPower();
                } else {
                    disk.crashProcess();
                }
            } finally {
                deathLock.writeLock().unlock();
            }
        }

        private interface IoCall<T> {
            T call() throws IOException;
        }

        private <T> T io(boolean mutation, IoCall<T> call) throws IOException {
            if (mutation && mutations.incrementAndGet() >= dieAtMutation) {
                die(scheduled);
            }
            deathLock.readLock().lock();
            try {
                if (death != null) {
                    throw new IOException("the process is dead (" + death + ")");
                }
                return call.call();
            } finally {
                deathLock.readLock().unlock();
            }
        }

        @Override
        public StorageFile openForRead(Path path) throws IOException {
            return new LifetimeFile(io(false, () -> disk.openForRead(path)));
        }

        @Override
        public StorageFile openForWrite(Path path) throws IOException {
            return new LifetimeFile(io(true, () -> disk.openForWrite(path)));
        }

        @Override
        public boolean exists(Path path) {
            try {
                return io(false, () -> disk.exists(path));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void rename(Path source, Path target) throws IOException {
            io(true, () -> {
                disk.rename(source, target);
                return null;
            });
        }

        @Override
        public boolean delete(Path path) throws IOException {
            return io(true, () -> disk.delete(path));
        }

        @Override
        public List<Path> list(Path dir) throws IOException {
            return io(false, () -> disk.list(dir));
        }

        @Override
        public void createDirectories(Path dir) throws IOException {
            io(true, () -> {
                disk.createDirectories(dir);
                return null;
            });
        }

        @Override
        public void syncDirectory(Path dir) throws IOException {
            io(true, () -> {
                disk.syncDirectory(dir);
                return null;
            });
        }

        @Override
        public AutoCloseable lock(Path path) throws IOException {
            return io(false, () -> disk.lock(path));
        }

        /** A file handle of this lifetime. */
        private final class LifetimeFile implements StorageFile {
            private final StorageFile file;

            LifetimeFile(StorageFile file) {
                this.file = file;
            }

            @Override
            public int read(long position, ByteBuffer dst) throws IOException {
                return io(false, () -> file.read(position, dst));
            }

            @Override
            public void write(long position, ByteBuffer src) throws IOException {
                io(true, () -> {
                    file.write(position, src);
                    return null;
                });
            }

            @Override
            public void force() throws IOException {
                io(true, () -> {
                    file.force();
                    return null;
                });
            }

            @Override
            public long size() throws IOException {
                return io(false, file::size);
            }

            @Override
            public void truncate(long size) throws IOException {
                io(true, () -> {
                    file.truncate(size);
                    return null;
                });
            }

            @Override
            public void close() throws IOException {
                file.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ one seed

    /** Everything one seed does; not reused. */
    static final class Scenario {
        final long seed;
        final boolean concurrentSyncOnly;
        final Random rng;
        final SimulatedStorageEnv disk = new SimulatedStorageEnv();
        final int segmentBytes;
        final WalOptions options;
        /** Records of the current lineage whose LSN is known, by LSN. */
        final ConcurrentSkipListMap<Long, Rec> byLsn = new ConcurrentSkipListMap<>();
        /** Every record of the current lineage (attempted appends since the last verification, and survivors). */
        final ConcurrentLinkedQueue<Rec> all = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<CompletableFuture<Long>> futures = new ConcurrentLinkedQueue<>();
        final AtomicLong truncateFloor = new AtomicLong();
        final AtomicLong acks = new AtomicLong();
        final List<String> trace = new ArrayList<>();
        final List<Thread> threads = new ArrayList<>();
        /** The current process lifetime. */
        volatile LifetimeEnv life;
        volatile boolean stopWriters;
        /** Deaths since the last verification, and whether one of them was a power cut. */
        volatile int deathsSinceVerify;
        volatile boolean powerCutSinceVerify;
        int nextWriterId;
        long recordsVerified;
        int powerCuts;
        int crashes;

        Scenario(long seed, boolean concurrentSyncOnly) {
            this.seed = seed;
            this.concurrentSyncOnly = concurrentSyncOnly;
            this.rng = new Random(seed);
            this.segmentBytes = new int[] {4096, 8192, 16384}[rng.nextInt(3)];
            this.options = WalOptions.defaults().segmentBytes(segmentBytes).ringBytes(64 * 1024)
                    .asyncFlushIntervalMillis(1 + rng.nextInt(20)).preallocateInBackground(rng.nextInt(4) != 0);
            if (rng.nextBoolean()) {
                options.compressAboveBytes(64);
            }
            note("seed " + seed + ": segmentBytes " + segmentBytes + ", compressAboveBytes "
                    + options.compressAboveBytes() + ", asyncFlushIntervalMillis " + options.asyncFlushIntervalMillis()
                    + ", preallocateInBackground " + options.preallocateInBackground());
        }

        synchronized void note(String line) {
            trace.add(line);
        }

        synchronized String trace() {
            List<String> tail = trace.size() > 80 ? trace.subList(trace.size() - 80, trace.size()) : trace;
            return "    " + String.join("\n    ", tail);
        }

        /** Called by {@link LifetimeEnv#die} (under its lock, before the disk is touched). */
        synchronized void died(Death how, long atMutation) {
            deathsSinceVerify++;
            if (how == Death.POWER_CUT) {
                powerCutSinceVerify = true;
                powerCuts++;
            } else {
                crashes++;
            }
            trace.add("  " + how + " at storage mutation " + atMutation + " of this process (in thread "
                    + Thread.currentThread().getName() + ")");
        }

        void run() throws Exception {
            Wal wal = open("first open");
            int sessions = concurrentSyncOnly ? 1 + rng.nextInt(3) : 1 + rng.nextInt(4);
            for (int s = 1; s <= sessions; s++) {
                Death death = s == sessions || concurrentSyncOnly || rng.nextInt(3) != 0
                        ? (rng.nextInt(4) == 0 ? Death.PROCESS_CRASH : Death.POWER_CUT) : null;
                LifetimeEnv current = life;
                if (concurrentSyncOnly) {
                    concurrentSyncSession(wal, s, death);
                } else if (rng.nextInt(3) == 0) {
                    threadedSession(wal, s, death);
                } else {
                    singleThreadSession(wal, s, death);
                }
                if (death == null) {
                    current.disarm();
                    wal.close();
                    checkFutures(true);
                    for (Rec r : all) {
                        r.durable = true; // close fsyncs everything appended
                    }
                    note("  clean close");
                } else {
                    current.die(death); // if the planned moment did not come
                    buryDeadProcess(wal);
                }
                wal = open(death == null ? "reopen after a clean close" : "reopen after the " + death);
                verify(wal, death == null);
                stopWriters = false;
            }
            life.disarm();
            wal.close();
        }

        /** Stops whatever a timed-out seed left running (best effort). */
        void abandon() {
            stopWriters = true;
            LifetimeEnv l = life;
            if (l != null) {
                l.die(Death.POWER_CUT);
            }
            for (Thread t : threads) {
                t.interrupt();
            }
        }

        /** Opens the log in a new process lifetime; sometimes that lifetime dies while opening, and then again. */
        Wal open(String why) {
            for (int attempt = 1; ; attempt++) {
                LifetimeEnv l = new LifetimeEnv(disk, this);
                life = l;
                Death death = null;
                if (attempt <= 3 && rng.nextInt(6) == 0) {
                    death = rng.nextInt(3) == 0 ? Death.PROCESS_CRASH : Death.POWER_CUT;
                    l.dieAtMutation(1 + rng.nextInt(12), death);
                }
                Wal wal;
                try {
                    wal = Wal.open(l, DB, options);
                } catch (RuntimeException e) {
                    if (!l.dead()) {
                        throw new AssertionError("the WAL did not open (" + why + "): " + e, e);
                    }
                    note(why + ": died while opening (" + firstLine(String.valueOf(e.getMessage())) + ")");
                    continue;
                }
                l.disarm();
                if (l.dead()) { // died in the flusher, just after opening
                    try {
                        wal.close();
                    } catch (RuntimeException expected) {
                        // dead
                    }
                    note(why + ": died just after opening");
                    continue;
                }
                RecoveryReport report = wal.recoveryReport();
                note(why + (death != null ? " (survived a scheduled " + death + ")" : "") + ": LSN "
                        + report.startLsn() + ".." + report.endLsn() + ", " + report.recordsRead() + " records, "
                        + report.bytesDropped() + " bytes dropped");
                assertThat(report.acknowledgedLoss()).as("recovery reports acknowledged loss: %s", report).isFalse();
                return wal;
            }
        }

        // -------------------------------------------------------------------------------------- sessions

        /** Schedules a death at a random storage mutation (half the time); otherwise the test thread picks the moment. */
        boolean scheduleDeathInStorage(Death death, int expectedMutations) {
            if (death == null || rng.nextBoolean()) {
                return false;
            }
            long n = 1 + rng.nextInt(Math.max(1, expectedMutations));
            life.dieAtMutation(n, death);
            note("  " + death + " scheduled at storage mutation " + n + " from now");
            return true;
        }

        /** The test thread is the only appender (the flusher runs too). */
        void singleThreadSession(Wal wal, int session, Death death) throws Exception {
            int ops = 5 + rng.nextInt(150);
            LifetimeEnv l = life;
            boolean inStorage = scheduleDeathInStorage(death, ops * 3);
            int dieAfter = death != null && !inStorage ? rng.nextInt(ops + 1) : -1;
            Writer w = new Writer(wal, l, nextWriterId++, new Random(rng.nextLong()));
            note("session " + session + ": test thread alone (writer " + w.id + "), " + ops + " operations"
                    + (dieAfter >= 0 ? ", " + death + " after operation " + dieAfter : ""));
            try {
                for (int i = 0; i < ops && !l.dead(); i++) {
                    if (i == dieAfter) {
                        l.die(death);
                        break;
                    }
                    if (rng.nextInt(40) == 0) {
                        truncate(wal);
                    } else {
                        w.step();
                    }
                }
                if (death == null) {
                    w.awaitFutures();
                }
            } catch (RuntimeException e) {
                if (!l.dead()) {
                    throw e;
                }
            }
        }

        /** One to four writer threads with random operations; the test thread truncates and picks the moment. */
        void threadedSession(Wal wal, int session, Death death) throws Exception {
            int writers = 1 + rng.nextInt(4);
            int opsEach = 5 + rng.nextInt(60);
            boolean inStorage = scheduleDeathInStorage(death, writers * opsEach * 3);
            long dieAfterAcks = death != null && !inStorage ? rng.nextInt(writers * opsEach + 1) : Long.MAX_VALUE;
            boolean truncate = rng.nextInt(3) == 0;
            note("session " + session + ": " + writers + " writer threads x " + opsEach + " operations"
                    + (dieAfterAcks != Long.MAX_VALUE ? ", " + death + " after " + dieAfterAcks + " operations" : "")
                    + (truncate ? ", truncateBefore midway" : ""));
            acks.set(0);
            List<Thread> started = startWriters(wal, writers, w -> {
                for (int i = 0; i < opsEach && !stopWriters && !w.life.dead(); i++) {
                    w.step();
                    acks.incrementAndGet();
                }
                if (death == null) {
                    w.awaitFutures();
                }
            });
            LifetimeEnv l = life;
            try {
                if (truncate) {
                    waitForAcks(started, Math.min(dieAfterAcks, writers * opsEach) / 2);
                    truncate(wal);
                }
            } catch (RuntimeException e) {
                if (!l.dead()) {
                    throw e;
                }
            }
            if (death != null) {
                waitForAcks(started, dieAfterAcks);
                l.die(death);
                stopWriters = true;
            }
            joinWriters(started);
        }

        /** Four threads doing nothing but SYNC appends (three APIs) until the process dies. */
        void concurrentSyncSession(Wal wal, int session, Death death) throws Exception {
            long dieAfterAcks = rng.nextInt(400);
            boolean inStorage = scheduleDeathInStorage(death, (int) dieAfterAcks * 2 + 8);
            note("session " + session + ": 4 SYNC appender threads"
                    + (inStorage ? "" : ", " + death + " after " + dieAfterAcks + " acknowledgements"));
            acks.set(0);
            List<Thread> started = startWriters(wal, 4, w -> {
                while (!stopWriters && !w.life.dead()) {
                    w.syncStep();
                    acks.incrementAndGet();
                }
            });
            LifetimeEnv l = life;
            waitForAcks(started, inStorage ? dieAfterAcks * 4 + 100 : dieAfterAcks);
            l.die(death);
            stopWriters = true;
            joinWriters(started);
        }

        interface WriterBody {
            void run(Writer w) throws Exception;
        }

        List<Thread> startWriters(Wal wal, int count, WriterBody body) {
            List<Thread> started = new ArrayList<>();
            LifetimeEnv l = life;
            for (int t = 0; t < count; t++) {
                Writer w = new Writer(wal, l, nextWriterId++, new Random(rng.nextLong()));
                Thread thread = new Thread(() -> {
                    try {
                        body.run(w);
                    } catch (ProcessDied expected) {
                        // stopped by the death of its process
                    } catch (Throwable e) {
                        if (!l.dead()) {
                            errors.add("writer " + w.id + " failed while its process was alive: " + stackOf(e));
                        }
                    }
                }, "powercut-writer-" + seed + "-" + w.id);
                thread.setDaemon(true);
                started.add(thread);
                threads.add(thread);
            }
            started.forEach(Thread::start);
            return started;
        }

        void waitForAcks(List<Thread> writers, long target) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (acks.get() < target && writers.stream().anyMatch(Thread::isAlive) && errors.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("writers made no progress for 30 s: " + acks.get() + " of " + target
                            + " operations done");
                }
                LockSupport.parkNanos(20_000);
            }
        }

        void joinWriters(List<Thread> writers) throws InterruptedException {
            for (Thread t : writers) {
                t.join(TimeUnit.SECONDS.toMillis(30));
                if (t.isAlive()) {
                    throw new AssertionError(t.getName() + " did not finish within 30 s" + (life.dead()
                            ? " after its process died" : "") + "; stack:\n" + stackOf(t));
                }
            }
            threads.removeAll(writers);
            if (!errors.isEmpty()) {
                throw new AssertionError(String.join("\n", errors));
            }
        }

        void truncate(Wal wal) {
            List<Long> lsns = new ArrayList<>(byLsn.keySet());
            long lsn = lsns.isEmpty() || rng.nextInt(4) == 0 ? wal.writtenLsn() : lsns.get(rng.nextInt(lsns.size()));
            truncateFloor.accumulateAndGet(lsn, Math::max);
            int deleted = wal.truncateBefore(lsn);
            note("  truncateBefore(" + lsn + ") deleted " + deleted + " segments");
        }

        /** After a death: the writers have stopped; let the dead log's flusher go. */
        void buryDeadProcess(Wal wal) {
            try {
                wal.close(); // stops the flusher; every storage call fails now
            } catch (RuntimeException expected) {
                // the process is dead
            }
            checkFutures(false);
        }

        /** After a clean close every future completed normally; after a death every future completed somehow. */
        void checkFutures(boolean clean) {
            for (CompletableFuture<Long> f : futures) {
                if (!f.isDone()) {
                    throw new AssertionError("an appendAsync future never completed although the log was "
                            + (clean ? "closed cleanly" : "failed by the death of its process and closed"));
                }
                if (clean && f.isCompletedExceptionally()) {
                    throw new AssertionError("an appendAsync future failed while the process lived: "
                            + f.handle((v, e) -> stackOf(e)).join());
                }
            }
            futures.clear();
        }

        // -------------------------------------------------------------------------------------- verification

        void verify(Wal wal, boolean clean) {
            if (!errors.isEmpty()) {
                throw new AssertionError(String.join("\n", errors));
            }
            boolean crashesOnly = deathsSinceVerify > 0 && !powerCutSinceVerify;
            if (clean && deathsSinceVerify == 0) {
                assertThat(wal.recoveryReport().clean()).as("recovery after a clean close dropped bytes: %s",
                        wal.recoveryReport()).isTrue();
            }
            String after = deathsSinceVerify == 0 ? "after a clean close"
                    : crashesOnly ? "after " + deathsSinceVerify + " process crash(es)"
                    : "after a power cut (and " + (deathsSinceVerify - 1) + " other deaths)";
            List<Got> got = new ArrayList<>();
            try (WalReader reader = wal.newReader(wal.startLsn())) {
                while (reader.next()) {
                    got.add(new Got(reader.lsn(), reader.type(), reader.payloadBytes()));
                }
                assertThat(reader.status()).as("reading the recovered log stopped at %s: %s", reader.position(),
                        reader.problem()).isEqualTo(WalReader.Status.END);
            }
            // Records whose LSN the appender never learned (its call failed in the death), by identity.
            Map<Long, Rec> unknownById = new HashMap<>();
            List<Rec> unknownShort = new ArrayList<>();
            for (Rec r : all) {
                if (r.lsn < 0) {
                    if (r.payload.length >= PAYLOAD_HEADER) {
                        unknownById.put(id(r.writer, r.seq), r);
                    } else {
                        unknownShort.add(r);
                    }
                }
            }
            List<Rec> present = new ArrayList<>();
            long previous = -1;
            for (Got g : got) {
                if (g.lsn <= previous) {
                    throw new AssertionError("the reader returned LSN " + g.lsn + " after LSN " + previous);
                }
                previous = g.lsn;
                Rec r = byLsn.get(g.lsn);
                if (r == null) {
                    r = matchUnknown(g, unknownById, unknownShort);
                    if (r == null) {
                        throw new AssertionError(after + ": a record that was never appended (or not at this LSN) "
                                + "was recovered at LSN " + g.lsn + ": " + describe(g));
                    }
                    r.lsn = g.lsn;
                    byLsn.put(g.lsn, r);
                }
                if (r.type != g.type || !Arrays.equals(r.payload, g.payload)) {
                    throw new AssertionError(after + ": the record recovered at LSN " + g.lsn + " is not what was "
                            + "appended there: appended " + r + ", recovered " + describe(g));
                }
                present.add(r);
            }
            long first = got.isEmpty() ? Long.MAX_VALUE : got.get(0).lsn;
            long last = got.isEmpty() ? -1 : got.get(got.size() - 1).lsn;
            long floor = truncateFloor.get();
            Set<Rec> presentSet = Collections.newSetFromMap(new IdentityHashMap<>());
            presentSet.addAll(present);
            for (Rec r : byLsn.values()) {
                if (presentSet.contains(r)) {
                    continue;
                }
                long segmentEnd = (r.lsn / segmentBytes + 1) * segmentBytes;
                if (r.lsn < first && segmentEnd <= floor) {
                    continue; // its segment lay wholly below a truncateBefore point
                }
                if (r.lsn < last) {
                    throw new AssertionError(after + ": hole in the recovered log: " + r + " is missing but the "
                            + "record at LSN " + last + " survived (first recovered LSN "
                            + (got.isEmpty() ? "-" : first) + ", truncateBefore floor " + floor + ")");
                }
                if (r.durable || (crashesOnly && r.written) || deathsSinceVerify == 0) {
                    throw new AssertionError(after + ": " + r + " is lost; the recovered log ends with LSN " + last
                            + " (" + got.size() + " records, first LSN " + (got.isEmpty() ? "-" : first)
                            + ", startLsn " + wal.startLsn() + ")");
                }
            }
            note("  verified " + got.size() + " records " + after + ", LSN " + (got.isEmpty() ? "-" : first + ".."
                    + last) + ", truncateBefore floor " + floor);
            recordsVerified += got.size();
            // The survivors are the lineage the next session continues. The log has read them back and is open:
            // from now on they must survive anything.
            byLsn.clear();
            all.clear();
            for (Rec r : present) {
                r.durable = true;
                byLsn.put(r.lsn, r);
                all.add(r);
            }
            deathsSinceVerify = 0;
            powerCutSinceVerify = false;
        }

        Rec matchUnknown(Got g, Map<Long, Rec> unknownById, List<Rec> unknownShort) {
            byte[] p = g.payload;
            if (p.length >= PAYLOAD_HEADER) {
                ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
                if (b.getLong(0) != seed || b.getInt(16) != payloadCrc(p)) {
                    return null;
                }
                return unknownById.remove(id(b.getInt(8), b.getInt(12)));
            }
            for (int i = 0; i < unknownShort.size(); i++) {
                Rec r = unknownShort.get(i);
                if (r.type == g.type && Arrays.equals(r.payload, p)) {
                    return unknownShort.remove(i);
                }
            }
            return null;
        }

        String describe(Got g) {
            byte[] p = g.payload;
            String who = "";
            if (p.length >= PAYLOAD_HEADER) {
                ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
                who = ", claims seed " + b.getLong(0) + " writer " + b.getInt(8) + " seq " + b.getInt(12)
                        + (b.getInt(16) == payloadCrc(p) ? "" : " (payload CRC mismatch)");
            }
            return g.type + ", " + p.length + " bytes" + who;
        }

        static long id(int writer, int seq) {
            return ((long) writer << 32) | (seq & 0xFFFFFFFFL);
        }

        // -------------------------------------------------------------------------------------- appenders

        /** One appender: its own random stream and sequence numbers, in one process lifetime. */
        final class Writer {
            final Wal wal;
            final LifetimeEnv life;
            final int id;
            final Random random;
            final List<CompletableFuture<Long>> mine = new ArrayList<>();
            int seq;

            Writer(Wal wal, LifetimeEnv life, int id, Random random) {
                this.wal = wal;
                this.life = life;
                this.id = id;
                this.random = random;
            }

            Rec newRec(String api) {
                int length;
                int roll = random.nextInt(100);
                if (roll < 10) {
                    length = random.nextInt(PAYLOAD_HEADER);
                } else if (roll < 12 && segmentBytes >= 16384) {
                    // Above an eighth of the 64 KiB ring: the large-record path that bypasses the ring.
                    length = 8200 + random.nextInt(segmentBytes - WalRecordDescriptor.HEADER_LENGTH - 8200);
                } else {
                    length = random.nextInt(MAX_PAYLOAD + 1);
                }
                RecordType type = random.nextInt(10) == 0 ? RecordType.CHECKPOINT : RecordType.WRITE_BATCH;
                Rec r = new Rec(id, seq, type, payload(seed, id, seq, length, random.nextBoolean()), api);
                seq++;
                all.add(r);
                return r;
            }

            void assign(Rec r, long lsn) {
                Rec before = byLsn.putIfAbsent(lsn, r);
                if (before != null && before != r) {
                    errors.add("LSN " + lsn + " was handed out twice: to " + before + " and to " + r);
                }
                r.lsn = lsn;
            }

            /** One random operation with any API and durability. */
            void step() throws Exception {
                int op = random.nextInt(100);
                if (op < 35) {
                    Rec r = newRec("append(SYNC)");
                    long lsn = wal.append(r.type, r.payload, Durability.SYNC);
                    assign(r, lsn);
                    r.durable = true;
                } else if (op < 55) {
                    Rec r = newRec("append(ASYNC)");
                    long lsn = wal.append(r.type, r.payload, Durability.ASYNC);
                    assign(r, lsn);
                    r.written = true;
                } else if (op < 75) {
                    boolean sync = random.nextBoolean();
                    Rec r = newRec(sync ? "appendAsync(SYNC)" : "appendAsync(ASYNC)");
                    CompletableFuture<Long> f = wal.appendAsync(r.type, r.payload,
                            sync ? Durability.SYNC : Durability.ASYNC);
                    futures.add(f);
                    f.whenComplete((lsn, e) -> {
                        if (e == null) {
                            assign(r, lsn);
                            if (sync) {
                                r.durable = true;
                            } else {
                                r.written = true;
                            }
                        }
                    });
                    mine.add(f);
                    if (random.nextInt(3) == 0) {
                        awaitFutures();
                    }
                } else {
                    int batch = 1 + random.nextInt(6);
                    int how = random.nextInt(10);
                    String api = how < 6 ? "appendDeferred+awaitDurable" : how < 9 ? "appendDeferred+awaitWritten"
                            : "appendDeferred (no wait)";
                    List<Rec> recs = new ArrayList<>();
                    long lsn = -1;
                    for (int i = 0; i < batch; i++) {
                        Rec r = newRec(api);
                        lsn = wal.appendDeferred(r.type, new UnsafeBuffer(r.payload), 0, r.payload.length);
                        assign(r, lsn);
                        recs.add(r);
                    }
                    if (how < 6) {
                        wal.awaitDurable(lsn);
                        recs.forEach(r -> r.durable = true);
                    } else if (how < 9) {
                        wal.awaitWritten(lsn);
                        recs.forEach(r -> r.written = true);
                    }
                }
            }

            /** One SYNC append, by one of the three acknowledging APIs. */
            void syncStep() throws Exception {
                int op = random.nextInt(10);
                if (op < 6) {
                    Rec r = newRec("append(SYNC)");
                    long lsn = wal.append(r.type, r.payload, Durability.SYNC);
                    assign(r, lsn);
                    r.durable = true;
                } else if (op < 8) {
                    Rec r = newRec("appendAsync(SYNC)");
                    CompletableFuture<Long> f = wal.appendAsync(r.type, r.payload, Durability.SYNC);
                    futures.add(f);
                    f.whenComplete((lsn, e) -> {
                        if (e == null) {
                            assign(r, lsn);
                            r.durable = true;
                        }
                    });
                    mine.add(f);
                    awaitFutures();
                } else {
                    Rec r = newRec("appendDeferred+awaitDurable");
                    long lsn = wal.appendDeferred(r.type, new UnsafeBuffer(r.payload), 0, r.payload.length);
                    assign(r, lsn);
                    wal.awaitDurable(lsn);
                    r.durable = true;
                }
            }

            /** Waits for this writer's futures; gives up (without judging) once its process is dead. */
            void awaitFutures() throws Exception {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                for (CompletableFuture<Long> f : mine) {
                    while (true) {
                        try {
                            f.get(1, TimeUnit.MILLISECONDS);
                            break;
                        } catch (TimeoutException e) {
                            if (life.dead()) {
                                throw new ProcessDied();
                            }
                            if (System.nanoTime() > deadline) {
                                throw new AssertionError("an appendAsync future did not complete within 30 s");
                            }
                        } catch (ExecutionException e) {
                            if (life.dead()) {
                                throw new ProcessDied();
                            }
                            throw e;
                        }
                    }
                }
                mine.clear();
            }
        }
    }
}
