package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash test: a child JVM ({@link WalCrashChild}) appends to a log on the real file layer from four
 * threads and reports each acknowledged record; after a seeded random delay the test kills it with
 * {@link Process#destroyForcibly()} (SIGKILL on Linux), reopens the log in-process and checks that
 * <ul>
 *   <li>the log opens (default recovery mode) without reporting acknowledged loss, and reads to its end;</li>
 *   <li>every acknowledged record is present at the LSN its append returned, with its exact payload (derived
 *       from writer id and sequence alone, so every record read back is checked, acknowledged or not);</li>
 *   <li>each writer's records form a prefix of its sequence: no gap, no duplicate, nothing out of order;</li>
 *   <li>records of earlier cycles are all still there at their LSNs (except those in segments the child's
 *       {@code truncateBefore} removed: each child truncates below the start of the previous cycle).</li>
 * </ul>
 * The directory is reused across cycles, so each recovery also runs over the tails earlier kills left.
 * A kill -9 loses nothing the OS accepted, so both properties are checked for SYNC and for ASYNC appends.
 * The child's stdout and stderr go to files, not pipes: the child can never block on them, and
 * {@code destroyForcibly()} (which closes a child's pipes) cannot drop acknowledgements it had written.
 *
 * <p>{@code -Dredoubt.kill.cycles=N} sets the cycles per mode ({@value #DEFAULT_CYCLES} by default; for long runs
 * also pass {@code -Djunit.jupiter.execution.timeout.mode=disabled}); {@code -Dredoubt.kill.seed=N} fixes the
 * seed that picks the kill delays (random by default, printed on failure). Kill timing is not reproducible,
 * so a seed replays the schedule, not the interleaving.
 */
class WalKillTest {
    static final String CYCLES_PROPERTY = "redoubt.kill.cycles";
    static final String SEED_PROPERTY = "redoubt.kill.seed";
    static final int DEFAULT_CYCLES = 20;
    private static final int THREADS = 4;
    private static final int MIN_DELAY_MILLIS = 150;
    private static final int MAX_DELAY_MILLIS = 700;
    private static final long CHILD_START_TIMEOUT_SECONDS = 60;
    private static final long CHILD_MAX_MILLIS = 120_000;

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void everyAcknowledgedRecordSurvivesSigkill() throws Exception {
        run("everyAcknowledgedRecordSurvivesSigkill", Durability.SYNC);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void everyAsyncAcknowledgedRecordSurvivesSigkill() throws Exception {
        run("everyAsyncAcknowledgedRecordSurvivesSigkill", Durability.ASYNC);
    }

    private void run(String method, Durability durability) throws Exception {
        String fixed = System.getProperty(SEED_PROPERTY);
        long seed = fixed != null && !fixed.isBlank() ? Long.parseLong(fixed.trim()) : System.nanoTime();
        String cyclesProperty = System.getProperty(CYCLES_PROPERTY);
        int cycles = cyclesProperty != null && !cyclesProperty.isBlank() ? Integer.parseInt(cyclesProperty.trim())
                : DEFAULT_CYCLES;
        KillLoop loop = new KillLoop(tmp.resolve("db"), durability, seed);
        long started = System.nanoTime();
        int cycle = 0;
        try {
            for (; cycle < cycles; cycle++) {
                loop.cycle(cycle);
            }
        } catch (Throwable e) {
            throw new AssertionError("kill test (" + durability + ") failed in cycle " + cycle + " of seed " + seed
                    + ": " + e.getMessage() + "\n  replay the schedule: mvn -B -pl common,test-support,wal -am test "
                    + "-Dsurefire.failIfNoSpecifiedTests=false -Dtest='" + WalKillTest.class.getSimpleName() + "#"
                    + method + "' -D" + SEED_PROPERTY + "=" + seed + "\n  cycles so far:\n    "
                    + String.join("\n    ", loop.trace), e);
        }
        System.out.printf("%s (%s, seed %d): %d cycles, %d acknowledged records, %d records read back in the last"
                        + " recovery, %.1f s%n", method, durability, seed, cycles, loop.totalAcks, loop.lastRecords,
                (System.nanoTime() - started) / 1e9);
        loop.trace.forEach(line -> System.out.println("  " + line));
        // Not a timing assertion: over a few seconds of appending, no acknowledgement at all means a broken log.
        assertThat(loop.totalAcks).as("acknowledged records over all cycles (seed %d)", seed).isPositive();
    }

    /** The cycles of one run, on one directory, and what earlier cycles left in it. */
    private static final class KillLoop {
        final Path dir;
        final Durability durability;
        final Random random;
        final long seed;
        final List<String> trace = new ArrayList<>();
        /** Records of earlier cycles' writers as the last recovery read them: LSN by sequence. */
        final Map<Integer, long[]> earlier = new HashMap<>();
        /** {@code truncateBefore} points handed to children (each child truncates below the previous cycle). */
        long truncateFloor;
        long previousCycleStart;
        long totalAcks;
        long lastRecords;

        KillLoop(Path dir, Durability durability, long seed) {
            this.dir = dir;
            this.durability = durability;
            this.seed = seed;
            this.random = new Random(seed);
        }

        void cycle(int cycle) throws Exception {
            int firstWriter = cycle * THREADS;
            long delay = MIN_DELAY_MILLIS + random.nextInt(MAX_DELAY_MILLIS - MIN_DELAY_MILLIS + 1);
            long truncate = previousCycleStart;
            truncateFloor = Math.max(truncateFloor, truncate);
            List<String> command = new ArrayList<>();
            command.add(javaBinary());
            command.addAll(jvmFlags());
            command.add("-Xmx256m");
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(WalCrashChild.class.getName());
            command.add(dir.toString());
            command.add(durability.name());
            command.add(String.valueOf(THREADS));
            command.add(String.valueOf(firstWriter));
            command.add(String.valueOf(truncate));
            command.add(String.valueOf(CHILD_MAX_MILLIS));
            // Output goes to files, not pipes: nothing can block the child, and destroyForcibly() (which closes
            // the pipes) cannot lose acknowledgements the child wrote before it died.
            Path outFile = dir.resolveSibling("child-" + cycle + ".out");
            Path errFile = dir.resolveSibling("child-" + cycle + ".err");
            Process child = new ProcessBuilder(command).redirectOutput(outFile.toFile())
                    .redirectError(errFile.toFile()).start();
            int exit;
            long startLsn;
            try {
                startLsn = awaitStart(child, outFile, errFile);
                Thread.sleep(delay);
                if (!child.isAlive()) {
                    throw new AssertionError("the child exited by itself with status " + child.exitValue()
                            + " before the kill; stderr:\n" + tail(errFile));
                }
            } finally {
                child.destroyForcibly();
                if (!child.waitFor(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("the child did not die within 60 s of SIGKILL");
                }
                exit = child.exitValue();
            }
            ChildOutput out = ChildOutput.parse(outFile, firstWriter);
            if (!out.errors.isEmpty()) {
                throw new AssertionError("the child's output broke the protocol: " + out.errors + "; stderr:\n"
                        + tail(errFile));
            }
            Files.delete(outFile);
            Files.delete(errFile);
            long acks = out.acks();
            totalAcks += acks;
            String verified = verify(out, firstWriter);
            trace.add(String.format("cycle %d: killed %d ms after start (exit %d); started at LSN %d after "
                            + "truncateBefore(%d); %d acknowledged; %s", cycle, delay, exit, startLsn, truncate,
                    acks, verified));
            previousCycleStart = startLsn;
        }

        /** Reopens the log and checks it against what the child acknowledged and what earlier cycles left. */
        String verify(ChildOutput out, int firstWriter) {
            Map<Integer, LongList> current = new HashMap<>();
            for (int w = firstWriter; w < firstWriter + THREADS; w++) {
                current.put(w, new LongList());
            }
            Map<Integer, Integer> earlierKept = new HashMap<>();
            long records = 0;
            RecoveryReport report;
            Wal wal;
            try {
                wal = Wal.open(dir, WalCrashChild.options());
            } catch (RuntimeException e) {
                throw new AssertionError("the WAL did not open after the kill: " + e, e);
            }
            try (wal; WalReader reader = wal.newReader(wal.startLsn())) {
                report = wal.recoveryReport();
                assertThat(report.acknowledgedLoss()).as("recovery reports acknowledged loss: %s", report).isFalse();
                while (reader.next()) {
                    records++;
                    long lsn = reader.lsn();
                    byte[] p = reader.payloadBytes();
                    if (reader.type() != RecordType.WRITE_BATCH || p.length < WalCrashChild.PAYLOAD_HEADER) {
                        throw new AssertionError("a record nobody appended at LSN " + lsn + ": " + reader.type()
                                + ", " + p.length + " bytes");
                    }
                    int w = WalCrashChild.writerOf(p);
                    long seq = WalCrashChild.seqOf(p);
                    if (seq < 0 || seq > Integer.MAX_VALUE || !Arrays.equals(p, WalCrashChild.payload(w, seq))) {
                        throw new AssertionError("the record at LSN " + lsn + " (" + p.length + " bytes, claims writer "
                                + w + " seq " + seq + ") is not what that writer appended");
                    }
                    LongList mine = current.get(w);
                    if (mine != null) {
                        if (seq != mine.size) {
                            throw new AssertionError("writer " + w + ": seq " + seq + " at LSN " + lsn
                                    + " follows seq " + (mine.size - 1) + " (gap, duplicate or reordering)");
                        }
                        mine.add(lsn);
                        continue;
                    }
                    long[] before = earlier.get(w);
                    if (before == null || seq >= before.length || before[(int) seq] != lsn) {
                        throw new AssertionError("record of writer " + w + " seq " + seq + " at LSN " + lsn
                                + (before == null ? " belongs to no known writer"
                                : seq >= before.length ? " was not in the log after the earlier recovery"
                                : " was at LSN " + before[(int) seq] + " after the earlier recovery"));
                    }
                    if (segmentEnd(lsn) > truncateFloor) {
                        earlierKept.merge(w, 1, Integer::sum);
                    }
                }
                assertThat(reader.status()).as("reading the recovered log stopped at LSN %d: %s", reader.position(),
                        reader.problem()).isEqualTo(WalReader.Status.END);
            }
            // Every acknowledged record is there, at the LSN the append returned.
            for (Map.Entry<Integer, LongList> e : out.acked.entrySet()) {
                int w = e.getKey();
                LongList acked = e.getValue();
                LongList found = current.get(w);
                if (found.size < acked.size) {
                    throw new AssertionError("writer " + w + ": " + acked.size + " records acknowledged, only "
                            + found.size + " recovered; lost seq " + found.size + " acknowledged at LSN "
                            + acked.get(found.size) + "; " + report);
                }
                for (int s = 0; s < acked.size; s++) {
                    if (found.get(s) != acked.get(s)) {
                        throw new AssertionError("writer " + w + " seq " + s + " was acknowledged at LSN "
                                + acked.get(s) + " but recovered at LSN " + found.get(s));
                    }
                }
            }
            // Earlier cycles' records are all still there, but for the segments truncateBefore removed.
            for (Iterator<Map.Entry<Integer, long[]>> it = earlier.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Integer, long[]> e = it.next();
                int required = 0;
                for (long lsn : e.getValue()) {
                    if (segmentEnd(lsn) > truncateFloor) {
                        required++;
                    }
                }
                int kept = earlierKept.getOrDefault(e.getKey(), 0);
                if (kept != required) {
                    throw new AssertionError("writer " + e.getKey() + " of an earlier cycle: " + required
                            + " of its records lie above the truncation point " + truncateFloor + ", but " + kept
                            + " were recovered");
                }
                if (required == 0) {
                    it.remove();
                }
            }
            current.forEach((w, lsns) -> earlier.put(w, lsns.toArray()));
            lastRecords = records;
            long recovered = current.values().stream().mapToLong(l -> l.size).sum();
            return records + " records in the log, " + recovered + " of this cycle; recovery dropped "
                    + report.bytesDropped() + " bytes";
        }

        /** Waits for the child's start line and returns the LSN it starts appending at. */
        static long awaitStart(Process child, Path outFile, Path errFile) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CHILD_START_TIMEOUT_SECONDS);
            while (true) {
                String first = firstLine(outFile);
                if (first != null) {
                    String[] f = first.split(" ");
                    if (f.length != 4 || !f[0].equals("S") || !f[3].equals("#")) {
                        throw new AssertionError("the child's first line is '" + first + "'; stderr:\n" + tail(errFile));
                    }
                    return Long.parseLong(f[1]);
                }
                if (!child.isAlive()) {
                    throw new AssertionError("the child exited with status " + child.exitValue()
                            + " before it started; stderr:\n" + tail(errFile));
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the child did not start within " + CHILD_START_TIMEOUT_SECONDS
                            + " s; stderr:\n" + tail(errFile));
                }
                Thread.sleep(2);
            }
        }

        /** The file's first complete line, or null while there is none. */
        static String firstLine(Path file) throws IOException {
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = in.readNBytes(256);
                for (int i = 0; i < buf.length; i++) {
                    if (buf[i] == '\n') {
                        return new String(buf, 0, i, StandardCharsets.US_ASCII);
                    }
                }
                return null;
            }
        }

        static String tail(Path file) {
            try {
                byte[] all = Files.readAllBytes(file);
                int from = Math.max(0, all.length - 16 * 1024);
                return new String(all, from, all.length - from, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        }

        static long segmentEnd(long lsn) {
            return (lsn / WalCrashChild.SEGMENT_BYTES + 1) * WalCrashChild.SEGMENT_BYTES;
        }
    }

    // ------------------------------------------------------------------------------------------ the child

    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The flags surefire passes in {@code redoubt.jvm.flags}, or this JVM's own module flags (IDE runs). */
    static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        String property = System.getProperty("redoubt.jvm.flags");
        if (property != null && !property.isBlank()) {
            for (String f : property.trim().split("\\s+")) {
                String unquoted = f.replace("\"", "").replace("'", "");
                if (!unquoted.isEmpty()) {
                    flags.add(unquoted);
                }
            }
            return flags;
        }
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("--add-exports") || a.startsWith("--add-opens")) {
                flags.add(a);
                if (!a.contains("=") && i + 1 < args.size()) {
                    flags.add(args.get(++i));
                }
            }
        }
        return flags;
    }

    /** The child's stdout after its death: one line per acknowledged record. */
    private static final class ChildOutput {
        final Map<Integer, LongList> acked = new HashMap<>();
        final List<String> errors = new ArrayList<>();

        static ChildOutput parse(Path file, int firstWriter) throws IOException {
            ChildOutput out = new ChildOutput();
            for (int w = firstWriter; w < firstWriter + THREADS; w++) {
                out.acked.put(w, new LongList());
            }
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
                String line;
                boolean first = true;
                while ((line = r.readLine()) != null) {
                    String[] f = line.split(" ");
                    if (!f[f.length - 1].equals("#")) {
                        continue; // cut by the kill: its record was never reported
                    }
                    if (first && f[0].equals("S") && f.length == 4) {
                        first = false;
                    } else if (f[0].equals("A") && f.length == 5) {
                        LongList mine = out.acked.get(Integer.parseInt(f[1]));
                        long seq = Long.parseLong(f[2]);
                        if (mine == null || seq != mine.size) {
                            out.errors.add("unexpected acknowledgement '" + line + "'");
                            continue;
                        }
                        mine.add(Long.parseLong(f[3]));
                    } else if (out.errors.size() < 10) {
                        out.errors.add("unexpected line '" + line + "'");
                    }
                }
            }
            return out;
        }

        long acks() {
            return acked.values().stream().mapToLong(l -> l.size).sum();
        }
    }

    /** A growable list of longs. */
    private static final class LongList {
        long[] values = new long[256];
        int size;

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        long get(int i) {
            return values[i];
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
