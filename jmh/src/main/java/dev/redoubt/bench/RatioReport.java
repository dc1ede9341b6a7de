package dev.redoubt.bench;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.util.Statistics;

/**
 * Turns one run's {@link RunResult}s into the table of figures (ops/s, MB/s, p50/p99/p99.9, B/op) and the
 * target ratios of the WAL issue, all from the same run:
 *
 * <ul>
 *   <li>SYNC with 1 writer ≥ 0.9 × the raw 4 KiB write+force loop (ops/s);</li>
 *   <li>SYNC with 16 writers ≥ 8 × SYNC with 1 writer (group commit);</li>
 *   <li>ASYNC 4 KiB append bandwidth ≥ 0.8 × raw sequential 1 MiB write bandwidth (MB/s);</li>
 *   <li>allocation per append ≈ 0 B/op ({@code gc.alloc.rate.norm}).</li>
 * </ul>
 *
 * <p>Throughput comes from a {@link Mode#Throughput} result when the run has one, else from the
 * {@link Mode#SampleTime} mean: threads / mean latency (every thread appends back to back). MB/s is payload
 * bytes (the WAL record's payload, the raw loop's write size) per second, 10^6 B.
 */
public final class RatioReport {
    private static final String WAL = WalAppendBenchmark.class.getName();
    private static final String RAW = RawFileChannelBaseline.class.getName();
    /** Display order of the known methods; anything else follows, by name. */
    private static final List<String> ORDER = List.of(
            RAW + ".writeForce4KiB", RAW + ".seqWrite1MiB", RAW + ".seqWrite1MiBForce",
            WAL + ".syncThreads1", WAL + ".syncThreads4", WAL + ".syncThreads16",
            WAL + ".asyncThreads1", WAL + ".asyncPipelinedThreads1");
    /** At or below this, the allocation per append counts as zero (JMH's own bookkeeping shows as a few mB). */
    private static final double ALLOC_ZERO_BYTES = 1.0;

    private RatioReport() {
    }

    /** One configuration (benchmark + parameters), with whatever modes the run measured for it. */
    static final class Row {
        final String benchmark;
        final int recordBytes;
        final long bytesPerOp;
        final int threads;
        double measuredOpsPerSec = Double.NaN;
        double meanMicros = Double.NaN;
        double p50 = Double.NaN;
        double p99 = Double.NaN;
        double p999 = Double.NaN;
        long samples;
        double allocBytesPerOp = Double.NaN;

        Row(String benchmark, int recordBytes, long bytesPerOp, int threads) {
            this.benchmark = benchmark;
            this.recordBytes = recordBytes;
            this.bytesPerOp = bytesPerOp;
            this.threads = threads;
        }

        double opsPerSec() {
            if (!Double.isNaN(measuredOpsPerSec)) {
                return measuredOpsPerSec;
            }
            return threads * 1e6 / meanMicros; // NaN if neither mode ran
        }

        double megabytesPerSec() {
            return bytesPerOp <= 0 ? Double.NaN : opsPerSec() * bytesPerOp / 1e6;
        }

        String displayName() {
            if (benchmark.startsWith(WAL + ".")) {
                return "wal." + benchmark.substring(WAL.length() + 1);
            }
            if (benchmark.startsWith(RAW + ".")) {
                return "raw." + benchmark.substring(RAW.length() + 1);
            }
            int dot = benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1);
            return benchmark.substring(dot + 1);
        }
    }

    public static void print(Collection<RunResult> results, PrintStream out) {
        if (results.isEmpty()) {
            out.println("No results (did the benchmark regex match nothing, or did every benchmark fail?)");
            return;
        }
        List<Row> rows = rows(results);
        BenchmarkParams first = results.iterator().next().getParams();
        header(first, out);
        table(rows, out);
        out.println();
        ratios(rows, out);
    }

    static List<Row> rows(Collection<RunResult> results) {
        Map<String, Row> byConfig = new LinkedHashMap<>();
        for (RunResult rr : results) {
            BenchmarkParams p = rr.getParams();
            StringBuilder key = new StringBuilder(p.getBenchmark()).append('|').append(p.getThreads());
            for (Object k : p.getParamsKeys()) {
                key.append('|').append(k).append('=').append(p.getParam(String.valueOf(k)));
            }
            Row row = byConfig.computeIfAbsent(key.toString(), k -> newRow(p));
            Result<?> primary = rr.getPrimaryResult();
            String[] unit = primary.getScoreUnit().split("/");
            if (p.getMode() == Mode.Throughput && unit.length == 2) {
                row.measuredOpsPerSec = primary.getScore() / seconds(unit[1]);
            } else if (p.getMode() == Mode.SampleTime && unit.length == 2) {
                double toMicros = seconds(unit[0]) * 1e6;
                Statistics s = primary.getStatistics();
                row.meanMicros = primary.getScore() * toMicros;
                row.p50 = s.getPercentile(50.0) * toMicros;
                row.p99 = s.getPercentile(99.0) * toMicros;
                row.p999 = s.getPercentile(99.9) * toMicros;
                row.samples = s.getN();
            }
            Map<String, ?> secondary = rr.getSecondaryResults();
            for (Map.Entry<String, ?> e : secondary.entrySet()) {
                if (e.getKey().endsWith("gc.alloc.rate.norm")) {
                    row.allocBytesPerOp = ((Result<?>) e.getValue()).getScore();
                }
            }
        }
        List<Row> rows = new ArrayList<>(byConfig.values());
        rows.sort(Comparator.<Row>comparingInt(r -> {
                    int i = ORDER.indexOf(r.benchmark);
                    return i < 0 ? ORDER.size() : i;
                })
                .thenComparing(r -> r.benchmark)
                .thenComparingInt(r -> r.recordBytes)
                .thenComparingInt(r -> r.threads));
        return rows;
    }

    private static Row newRow(BenchmarkParams p) {
        String b = p.getBenchmark();
        String rb = p.getParamsKeys().contains("recordBytes") ? p.getParam("recordBytes") : null;
        int recordBytes = rb == null ? -1 : Integer.parseInt(rb);
        long bytesPerOp;
        if (b.equals(RAW + ".writeForce4KiB")) {
            bytesPerOp = RawFileChannelBaseline.PAGE_BYTES;
        } else if (b.startsWith(RAW + ".seqWrite1MiB")) {
            bytesPerOp = RawFileChannelBaseline.CHUNK_BYTES;
        } else {
            bytesPerOp = Math.max(recordBytes, 0);
        }
        return new Row(b, recordBytes, bytesPerOp, p.getThreads());
    }

    private static void header(BenchmarkParams p, PrintStream out) {
        IterationParams w = p.getWarmup();
        IterationParams m = p.getMeasurement();
        out.printf("Redoubt WAL benchmarks, %s%n",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")));
        out.printf("JVM %s (%s %s), JMH %s, %d CPUs, files under %s%n", p.getJdkVersion(), p.getVmName(),
                p.getVmVersion(), p.getJmhVersion(), Runtime.getRuntime().availableProcessors(), forkTmpDir(p));
        out.printf("per configuration: %d fork(s), warmup %d x %s, measurement %d x %s%n", p.getForks(),
                w.getCount(), w.getTime(), m.getCount(), m.getTime());
        long measuredMillis = m.getCount() * m.getTime().convertTo(TimeUnit.MILLISECONDS);
        if (measuredMillis < 5_000 || w.getCount() == 0) {
            out.println("NOTE: smoke-length run: the figures and ratios below only show that everything runs.");
        }
        out.println();
    }

    /** The fork's java.io.tmpdir: the last -Djava.io.tmpdir in its JVM arguments, else this JVM's. */
    private static String forkTmpDir(BenchmarkParams p) {
        String dir = System.getProperty("java.io.tmpdir");
        for (Object a : p.getJvmArgs()) {
            String arg = String.valueOf(a);
            if (arg.startsWith("-Djava.io.tmpdir=")) {
                dir = arg.substring("-Djava.io.tmpdir=".length());
            }
        }
        return dir;
    }

    private static void table(List<Row> rows, PrintStream out) {
        String fmt = "%-28s %8s %3s %11s %9s %10s %10s %10s %10s%n";
        out.printf(fmt, "benchmark", "bytes/op", "thr", "ops/s", "MB/s", "p50 us", "p99 us", "p99.9 us", "alloc B/op");
        for (Row r : rows) {
            out.printf(fmt, r.displayName(), r.bytesPerOp > 0 ? Long.toString(r.bytesPerOp) : "-", r.threads,
                    num(r.opsPerSec()), num(r.megabytesPerSec()), num(r.p50), num(r.p99), num(r.p999),
                    num(r.allocBytesPerOp));
        }
        out.println("ops/s: " + (rows.stream().anyMatch(r -> !Double.isNaN(r.measuredOpsPerSec))
                ? "measured (Throughput mode)" : "threads / SampleTime mean")
                + "; MB/s = payload bytes per second (10^6 B); wal.asyncPipelinedThreads1 percentiles are batch of "
                + WalAppendBenchmark.PIPELINE + " / " + WalAppendBenchmark.PIPELINE + ".");
    }

    private static void ratios(List<Row> rows, PrintStream out) {
        Row raw4k = find(rows, RAW + ".writeForce4KiB", -1);
        Row rawSeq = find(rows, RAW + ".seqWrite1MiB", -1);
        Row rawSeqForce = find(rows, RAW + ".seqWrite1MiBForce", -1);
        String fmt = "%-66s %6s %7s  %s%n";
        out.println("Target ratios (one run)");
        out.printf(fmt, "ratio", "value", "target", "verdict");
        for (int rb : new int[] {100, 4096}) {
            Row sync1 = find(rows, WAL + ".syncThreads1", rb);
            ratio(out, fmt, "SYNC 1 writer / raw 4 KiB write+force, ops/s  [" + size(rb) + "]",
                    ops(sync1), ops(raw4k), 0.9);
        }
        for (int rb : new int[] {100, 4096}) {
            Row sync1 = find(rows, WAL + ".syncThreads1", rb);
            ratio(out, fmt, "SYNC 16 writers / SYNC 1 writer, ops/s  [" + size(rb) + "]",
                    ops(find(rows, WAL + ".syncThreads16", rb)), ops(sync1), 8.0);
            ratio(out, fmt, "  (info) SYNC 4 writers / SYNC 1 writer, ops/s  [" + size(rb) + "]",
                    ops(find(rows, WAL + ".syncThreads4", rb)), ops(sync1), Double.NaN);
        }
        Row async4k = find(rows, WAL + ".asyncThreads1", 4096);
        Row pipelined4k = find(rows, WAL + ".asyncPipelinedThreads1", 4096);
        ratio(out, fmt, "ASYNC 4 KiB, 1 writer / raw seq 1 MiB writes, MB/s", mbps(async4k), mbps(rawSeq), 0.8);
        ratio(out, fmt, "ASYNC 4 KiB, pipelined x" + WalAppendBenchmark.PIPELINE + " / raw seq 1 MiB writes, MB/s",
                mbps(pipelined4k), mbps(rawSeq), 0.8);
        ratio(out, fmt, "  (info) ASYNC 4 KiB, 1 writer / raw seq 1 MiB write+force, MB/s",
                mbps(async4k), mbps(rawSeqForce), Double.NaN);
        ratio(out, fmt, "  (info) ASYNC 4 KiB, pipelined / raw seq 1 MiB write+force, MB/s",
                mbps(pipelined4k), mbps(rawSeqForce), Double.NaN);

        alloc(rows, raw4k, fmt, out);
    }

    /**
     * The allocation target. JMH's own bookkeeping (results, profiler polling) allocates a roughly constant
     * number of bytes per second of iteration, which {@code gc.alloc.rate.norm} divides by the operations: tens
     * of B/op for fsync-bound loops even when the measured code allocates nothing. The raw write+force loop
     * allocates nothing itself, so its figure times its rate estimates that background; each WAL row's
     * allocation beyond it is what the append itself allocates.
     */
    private static void alloc(List<Row> rows, Row raw4k, String fmt, PrintStream out) {
        double backgroundBytesPerSec = raw4k == null || Double.isNaN(raw4k.allocBytesPerOp)
                ? 0.0 : raw4k.allocBytesPerOp * raw4k.opsPerSec();
        Row worst = null;
        double worstExcess = Double.NEGATIVE_INFINITY;
        for (Row r : rows) {
            if (r.benchmark.startsWith(WAL + ".") && !Double.isNaN(r.allocBytesPerOp)) {
                double excess = r.allocBytesPerOp - backgroundBytesPerSec / r.opsPerSec();
                if (excess > worstExcess) {
                    worst = r;
                    worstExcess = excess;
                }
            }
        }
        String label = "allocation per append, worst wal.* (gc.alloc.rate.norm), B/op";
        if (worst == null) {
            out.printf(fmt, label, "n/a", "~0", "not measured (no gc profiler results)");
            return;
        }
        String where = worst.displayName() + " " + size(worst.recordBytes) + ": " + num(worst.allocBytesPerOp)
                + " B/op measured";
        if (backgroundBytesPerSec > 0) {
            where += String.format(Locale.ROOT, ", less JMH's %.0f kB/s of its own (from raw.writeForce4KiB)",
                    backgroundBytesPerSec / 1e3);
        }
        out.printf(fmt, label, num(Math.max(worstExcess, 0.0)), "~0",
                (worstExcess <= ALLOC_ZERO_BYTES ? "meets" : "MISSES") + " (" + where + ")");
    }

    private static void ratio(PrintStream out, String fmt, String label, double a, double b, double target) {
        double v = a / b;
        String value = Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
        String t = Double.isNaN(target) ? "" : ">= " + BigDecimal.valueOf(target).stripTrailingZeros().toPlainString();
        String verdict;
        if (value.equals("n/a")) {
            verdict = "not measured";
        } else if (Double.isNaN(target)) {
            verdict = "";
        } else {
            verdict = v >= target ? "meets" : "MISSES";
        }
        out.println(String.format(Locale.ROOT, fmt, label, value, t, verdict).stripTrailing());
    }

    private static Row find(List<Row> rows, String benchmark, int recordBytes) {
        for (Row r : rows) {
            if (r.benchmark.equals(benchmark) && (recordBytes < 0 || r.recordBytes == recordBytes)) {
                return r;
            }
        }
        return null;
    }

    private static double ops(Row r) {
        return r == null ? Double.NaN : r.opsPerSec();
    }

    private static double mbps(Row r) {
        return r == null ? Double.NaN : r.megabytesPerSec();
    }

    private static String size(int bytes) {
        if (bytes < 0) {
            return "-";
        }
        return bytes % 1024 == 0 ? (bytes / 1024) + " KiB" : bytes + " B";
    }

    /** About four significant digits, no exponent. */
    static String num(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        String f = a >= 1000 ? "%.0f" : a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : a >= 1 ? "%.3f" : "%.4f";
        return String.format(Locale.ROOT, f, v);
    }

    /** Seconds in one JMH time-unit abbreviation (ns, us, ms, s, min, hr, day). */
    static double seconds(String unit) {
        switch (unit) {
            case "ns": return 1e-9;
            case "us": return 1e-6;
            case "ms": return 1e-3;
            case "s": return 1.0;
            case "min": return 60.0;
            case "hr": return 3600.0;
            case "day": return 86400.0;
            default: throw new IllegalArgumentException("unknown JMH time unit: " + unit);
        }
    }
}
