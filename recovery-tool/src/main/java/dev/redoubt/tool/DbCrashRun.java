package dev.redoubt.tool;

import dev.redoubt.common.PowerLossStorageEnv;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbIterator;
import dev.redoubt.engine.DbRecoveryReport;
import dev.redoubt.engine.KeyValue;
import dev.redoubt.wal.Durability;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Crash cycles against the Db: start a {@link DbCrashChild} JVM on the directory, let it write batches, SIGKILL
 * it at the chosen moment, reopen (recover) the database here and check it. The same directory goes through every
 * cycle; each cycle's writers use new batch numbers, so a cycle's keys form one range per writer.
 *
 * <p>What must hold after each kill, per writer (whose batches are written one after the other, each only once
 * the one before was acknowledged):
 * <ul>
 *   <li>every acknowledged batch is present with its exact values; with power loss ({@link PowerLossStorageEnv}
 *       in the child) only every {@code SYNC}-acknowledged one: an {@code ASYNC} batch may be lost if it was never
 *       fsynced (counted as {@code unsyncedLost}, allowed);</li>
 *   <li>the batches present form a gap-free run from the cycle's first batch, and go at most one past the last
 *       acknowledged (the one in flight, written but not yet reported): anything else is a hole;</li>
 *   <li>no batch is partial (both halves or neither, with equal values), and the writer's last-batch marker names
 *       the highest batch present (its batches are atomic and ordered).</li>
 * </ul>
 * What survived a cycle must survive every later one: {@link #verifyAll} checks it again at the end.
 *
 * <p>Not thread-safe: one cycle at a time.
 */
final class DbCrashRun {
    private static final long CHILD_START_TIMEOUT_SECONDS = 60;
    /** Batch numbers a writer may use in one cycle. */
    static final long BATCHES_PER_CYCLE = 100_000_000L;

    /** What one cycle saw. */
    record Cycle(int number, Durability durability, long killAfterMs, long acknowledged, long verified, long lost,
                 long partial, long flushes, long compactions, double recoveryMs, long recordsReplayed,
                 long tornBytes, long survived, long unsyncedLost, long holes) {
    }

    /**
     * One writer's batches of one cycle found after recovery: {@code runLast}, the end of the gap-free run from
     * the cycle's first batch ({@code first - 1} if that is missing); {@code highest} present ({@code first - 1}
     * if none); how many were found; how many of those are holes (past a gap, or past the batch in flight).
     */
    private record Survivors(long runLast, long highest, long found, long holes) {
    }

    /** Acknowledged batches of one writer in one cycle: {@code [first, last]}, empty when last &lt; first. */
    private record Acked(int writer, long first, long last) {
        long count() {
            return Math.max(0, last - first + 1);
        }
    }

    private final Path dir;
    private final int writers;
    private final boolean powerLoss;
    /** The batches every later check must find: acknowledged ones, less what a power cut was allowed to take. */
    private final List<Acked> mustSurvive = new ArrayList<>();
    private int cycles;

    /** Cycles on {@code dir} with {@code writers} threads; {@code powerLoss}: the child runs on a {@link PowerLossStorageEnv}. */
    DbCrashRun(Path dir, int writers, boolean powerLoss) {
        this.dir = dir;
        this.writers = writers;
        this.powerLoss = powerLoss;
    }

    Cycle run(int number, Durability durability, long killAfterMs) throws IOException, InterruptedException {
        long first = (long) cycles++ * BATCHES_PER_CYCLE;
        long[] lastAcked = new long[writers];
        Arrays.fill(lastAcked, -1);
        long[] background = new long[2];
        Path childErr = Files.createTempFile("redoubt-crash-child-", ".err");
        try {
            Process child = start(durability, first, childErr);
            CountDownLatch ready = new CountDownLatch(1);
            Thread pump = new Thread(() -> readReports(child, first, lastAcked, background, ready), "crash-child-stdout");
            pump.start();
            try {
                if (!ready.await(CHILD_START_TIMEOUT_SECONDS, TimeUnit.SECONDS) || !child.isAlive()) {
                    child.destroyForcibly();
                    throw new IOException("the crash-test child did not start: " + tail(childErr));
                }
                Thread.sleep(killAfterMs);
            } finally {
                // SIGKILL on Linux: no shutdown hook, no close, no flush. Through the ProcessHandle, not
                // Process.destroyForcibly(), which also closes our end of the child's stdout and so could drop the
                // ACK lines still in the pipe: the pump reads the pipe to its end, every acknowledgement included.
                child.toHandle().destroyForcibly();
                child.waitFor();
                pump.join();
            }
        } finally {
            Files.deleteIfExists(childErr);
        }
        List<Acked> cycleAcks = new ArrayList<>();
        synchronized (lastAcked) {
            for (int w = 0; w < writers; w++) {
                cycleAcks.add(new Acked(w, first, lastAcked[w]));
            }
        }
        boolean lossAllowed = powerLoss && durability == Durability.ASYNC;
        long started = System.nanoTime();
        try (Db db = Db.open(dir, DbCrashChild.options())) {
            double recoveryMs = (System.nanoTime() - started) / 1e6;
            long acked = 0;
            long verified = 0;
            long lost = 0;
            long unsyncedLost = 0;
            long partial = 0;
            long survived = 0;
            long holes = 0;
            for (Acked a : cycleAcks) {
                WriterCheck c = check(db, a.writer(), first, a.last(), lossAllowed);
                acked += c.acknowledged();
                verified += c.verified();
                lost += c.lost();
                unsyncedLost += c.unsyncedLost();
                partial += c.partial();
                survived += c.survived();
                holes += c.holes();
                mustSurvive.add(new Acked(a.writer(), first, c.mustSurviveLast()));
            }
            DbRecoveryReport r = db.recoveryReport();
            long flushes;
            long compactions;
            synchronized (lastAcked) {
                flushes = background[0];
                compactions = background[1];
            }
            return new Cycle(number, durability, killAfterMs, acked, verified, lost, partial, flushes,
                    compactions, recoveryMs, r.recordsReplayed(), r.wal().bytesDropped(), survived, unsyncedLost, holes);
        }
    }

    /**
     * The verdict on one writer's batches of one cycle (see the class comment): {@code mustSurviveLast} is the last
     * batch every later check must find ({@code lastAcked}, or less where a power cut was allowed to take some).
     */
    record WriterCheck(long acknowledged, long verified, long lost, long unsyncedLost, long partial, long survived,
                       long holes, long mustSurviveLast) {
    }

    /**
     * Checks writer {@code writer}'s batches of the cycle whose first batch is {@code first}, after recovery, given
     * its last acknowledged batch ({@code < first} if none); {@code lossAllowed}: acknowledged batches may be
     * missing from the end (ASYNC under power loss).
     */
    static WriterCheck check(Db db, int writer, long first, long lastAcked, boolean lossAllowed) {
        Acked a = new Acked(writer, first, lastAcked);
        long present = verify(db, a);
        Survivors s = survivors(db, a);
        long partial = partialBatches(db, writer, first, first + BATCHES_PER_CYCLE);
        if (!lastMarkerHolds(db, writer, first, s.highest())) {
            partial++;
        }
        // What had to survive: every acknowledged batch, or (loss allowed) those up to the end of the gap-free run.
        Acked must = lossAllowed ? new Acked(writer, first, Math.min(lastAcked, s.runLast())) : a;
        long mustPresent = must == a ? present : verify(db, must);
        return new WriterCheck(a.count(), present, must.count() - mustPresent, a.count() - must.count(), partial,
                s.found(), s.holes(), must.last());
    }

    /**
     * Re-checks every batch that had to survive a cycle so far (every acknowledged one, less the {@code ASYNC} ones a
     * power cut took); returns {expected, verified, partial}.
     */
    long[] verifyAll() {
        long expected = 0;
        long verified = 0;
        long partial = 0;
        try (Db db = Db.open(dir, DbCrashChild.options())) {
            for (Acked a : mustSurvive) {
                expected += a.count();
                verified += verify(db, a);
            }
            for (int w = 0; w < writers; w++) {
                partial += partialBatches(db, w, 0, (long) cycles * BATCHES_PER_CYCLE);
            }
        }
        return new long[] {expected, verified, partial};
    }

    private static long verify(Db db, Acked a) {
        long verified = 0;
        for (long b = a.first(); b <= a.last(); b++) {
            byte[] expected = DbCrashChild.value(a.writer(), b);
            if (Arrays.equals(db.get(DbCrashChild.key(a.writer(), b, 'a')), expected)
                    && Arrays.equals(db.get(DbCrashChild.key(a.writer(), b, 'b')), expected)) {
                verified++;
            }
        }
        return verified;
    }

    /**
     * Whether the writer's last-batch marker names {@code highest}, its highest batch present in the cycle that
     * starts at {@code first}; with none present, the marker must be older than the cycle (or absent).
     */
    private static boolean lastMarkerHolds(Db db, int writer, long first, long highest) {
        byte[] last = db.get(DbCrashChild.lastKey(writer));
        if (last == null) {
            return highest < first;
        }
        try {
            long marker = Long.parseLong(new String(last, StandardCharsets.UTF_8));
            return highest >= first ? marker == highest : marker < first;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Scans the writer's batches of the cycle of {@code a} (one key per batch, its 'a' half) for gaps. */
    private static Survivors survivors(Db db, Acked a) {
        long first = a.first();
        long inFlight = Math.max(a.last(), first - 1) + 1; // the highest batch that may be present
        long next = first;
        long highest = first - 1;
        long found = 0;
        long holes = 0;
        boolean gap = false;
        try (DbIterator it = db.scan(DbCrashChild.batchPrefix(a.writer(), first),
                DbCrashChild.batchPrefix(a.writer(), first + BATCHES_PER_CYCLE))) {
            while (it.hasNext()) {
                byte[] k = it.next().key();
                if (k[k.length - 1] != 'a') {
                    continue;
                }
                long b = DbCrashChild.batchOf(k);
                if (!gap && b == next) {
                    next++;
                } else {
                    gap = true;
                }
                if (gap || b > inFlight) {
                    holes++;
                }
                highest = b;
                found++;
            }
        }
        return new Survivors(next - 1, highest, found, holes);
    }

    /** Batches of {@code writer} numbered in {@code [from, to)} with one half only, or halves that differ. */
    private static long partialBatches(Db db, int writer, long from, long to) {
        long partial = 0;
        byte[] pendingPrefix = null;
        byte[] pendingValue = null;
        try (DbIterator it = db.scan(DbCrashChild.batchPrefix(writer, from), DbCrashChild.batchPrefix(writer, to))) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                byte[] k = kv.key();
                byte[] prefix = Arrays.copyOf(k, k.length - 1);
                char part = (char) k[k.length - 1];
                if (part == 'a') {
                    if (pendingPrefix != null) {
                        partial++; // an 'a' without its 'b'
                    }
                    pendingPrefix = prefix;
                    pendingValue = kv.value();
                } else {
                    if (pendingPrefix == null || !Arrays.equals(pendingPrefix, prefix)
                            || !Arrays.equals(pendingValue, kv.value())) {
                        partial++; // a 'b' without its 'a', or halves that differ
                    }
                    pendingPrefix = null;
                    pendingValue = null;
                }
            }
        }
        return pendingPrefix != null ? partial + 1 : partial;
    }

    private Process start(Durability durability, long first, Path childErr) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), DbCrashChild.class.getName(), dir.toString(),
                Integer.toString(writers), durability.name(), Long.toString(first),
                powerLoss ? DbCrashChild.POWER_LOSS : DbCrashChild.KILL));
        return new ProcessBuilder(command).redirectError(childErr.toFile()).start();
    }

    private void readReports(Process child, long first, long[] lastAcked, long[] background, CountDownLatch ready) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split(" ");
                if (f[0].equals("READY")) {
                    ready.countDown();
                } else if (f[0].equals("ACK") && f.length == 3) {
                    int w = Integer.parseInt(f[1]);
                    long b = Long.parseLong(f[2]);
                    synchronized (lastAcked) {
                        // A line cut by the kill parses as a smaller number: never more than was acknowledged.
                        if (w >= 0 && w < writers && b >= first && b < first + BATCHES_PER_CYCLE) {
                            lastAcked[w] = Math.max(lastAcked[w], b);
                        }
                    }
                } else if (f[0].equals("STATS") && f.length == 3) {
                    synchronized (lastAcked) {
                        background[0] = Long.parseLong(f[1]);
                        background[1] = Long.parseLong(f[2]);
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The child was killed mid-line: what was read is what was acknowledged.
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return lines.isEmpty() ? "(no output)" : String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(stderr unreadable)";
        }
    }
}
