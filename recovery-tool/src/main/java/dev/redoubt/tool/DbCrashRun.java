package dev.redoubt.tool;

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
 * it at the chosen moment, reopen (recover) the database here and check it: every acknowledged batch is present
 * with its exact values, every writer's last-batch marker is at least its last acknowledged batch, and no batch
 * is partial (both halves or neither). The same directory goes through every cycle; each cycle's writers use new
 * batch numbers, so a cycle's keys form one range per writer.
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
                 long tornBytes) {
    }

    /** Acknowledged batches of one writer in one cycle: {@code [first, last]}, empty when last &lt; first. */
    private record Acked(int writer, long first, long last) {
        long count() {
            return Math.max(0, last - first + 1);
        }
    }

    private final Path dir;
    private final int writers;
    private final List<Acked> acknowledged = new ArrayList<>();
    private int cycles;

    DbCrashRun(Path dir, int writers) {
        this.dir = dir;
        this.writers = writers;
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
                child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close, no flush
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
        acknowledged.addAll(cycleAcks);
        long started = System.nanoTime();
        try (Db db = Db.open(dir, DbCrashChild.options())) {
            double recoveryMs = (System.nanoTime() - started) / 1e6;
            long acked = 0;
            long verified = 0;
            long partial = 0;
            for (Acked a : cycleAcks) {
                acked += a.count();
                verified += verify(db, a);
                partial += partialBatches(db, a.writer(), first, first + BATCHES_PER_CYCLE);
                if (a.count() > 0 && !lastMarkerHolds(db, a)) {
                    partial++;
                }
            }
            DbRecoveryReport r = db.recoveryReport();
            long flushes;
            long compactions;
            synchronized (lastAcked) {
                flushes = background[0];
                compactions = background[1];
            }
            return new Cycle(number, durability, killAfterMs, acked, verified, acked - verified, partial, flushes,
                    compactions, recoveryMs, r.recordsReplayed(), r.wal().bytesDropped());
        }
    }

    /** Re-checks every batch acknowledged in every cycle so far; returns {acknowledged, verified, partial}. */
    long[] verifyAll() {
        long acked = 0;
        long verified = 0;
        long partial = 0;
        try (Db db = Db.open(dir, DbCrashChild.options())) {
            for (Acked a : acknowledged) {
                acked += a.count();
                verified += verify(db, a);
            }
            for (int w = 0; w < writers; w++) {
                partial += partialBatches(db, w, 0, (long) cycles * BATCHES_PER_CYCLE);
            }
        }
        return new long[] {acked, verified, partial};
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

    private static boolean lastMarkerHolds(Db db, Acked a) {
        byte[] last = db.get(DbCrashChild.lastKey(a.writer()));
        try {
            return last != null && Long.parseLong(new String(last, StandardCharsets.UTF_8)) >= a.last();
        } catch (NumberFormatException e) {
            return false;
        }
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
                Integer.toString(writers), durability.name(), Long.toString(first)));
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
