package dev.redoubt.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/**
 * The Db comparison's figures and target ratios, Redoubt ÷ RocksDB, all from one run: from the
 * {@link RunResult}s JMH hands {@link DbBenchmarks}, or from a JMH JSON result file ({@link BenchCharts}), through
 * one row model ({@link Row}) so the console table, the markdown table and the charts say the same thing.
 *
 * <p>Units: single-shot passes over {@code keys} records (fills, full scan) are turned into records per second
 * ({@code keys / time}); per-operation benchmarks are JMH throughput (puts, gets or seeks per second; from a
 * SampleTime or AverageTime run, {@code threads / mean}); the reopen is milliseconds, lower is better. The ± is
 * JMH's 99.9% confidence half-width relative to the score (n/a for a single iteration).
 */
public final class DbReport {
    /** The RSS target (issue 14): loading 10 M records with default options peaks under 512 MiB. */
    static final double RSS_TARGET_MIB = 512;
    static final long RSS_TARGET_KEYS = 10_000_000L;
    static final String RSS_COMMAND = "bin/bench --db --name db-rss-10m --no-charts -wi 0 -i 1 -p keys=10000000 "
            + "-p valueBytes=100 'DbFillBenchmark.fillrandom'";

    private DbReport() {
    }

    /** How a workload's figure is expressed. */
    enum Kind {
        /** Per-operation throughput. */
        OPS,
        /** Records per second of a single-shot pass over {@code keys} records. */
        RECORDS,
        /** Milliseconds per operation, lower is better. */
        MILLIS
    }

    /**
     * The workloads, in display order, with their targets (NaN: reported, no target): issue 14's (fills at least
     * 1.5 x RocksDB, SYNC from 8 threads at least 2 x, the reopen at most half RocksDB's time, reads at least
     * the ratios they had before it: readrandom 1.44, seekrandom 2.99, full scan 2.28).
     */
    enum Workload {
        FILLSEQ("DbFillBenchmark.fillseq", "fillseq, ASYNC puts", "fillseq", Kind.RECORDS, "records/s", 1.5),
        FILLRANDOM("DbFillBenchmark.fillrandom", "fillrandom, ASYNC puts", "fillrandom ASYNC", Kind.RECORDS,
                "records/s", 1.5),
        SYNC1("DbSyncWriteBenchmark.fillrandomSync1", "fillrandom, SYNC puts", "fillrandom SYNC x1", Kind.OPS,
                "puts/s", Double.NaN),
        SYNC8("DbSyncWriteBenchmark.fillrandomSync8", "fillrandom, SYNC puts", "fillrandom SYNC x8", Kind.OPS,
                "puts/s", 2.0),
        READ1("DbReadBenchmark.readrandom1", "readrandom", "readrandom x1", Kind.OPS, "gets/s", 1.44),
        READ2("DbReadBenchmark.readrandom2", "readrandom", "readrandom x2", Kind.OPS, "gets/s", 1.44),
        SEEK("DbReadBenchmark.seekrandom", "seekrandom + 10 next", "seekrandom +10", Kind.OPS, "seeks/s", 2.99),
        SCAN("DbReadBenchmark.scanFull", "full scan", "full scan", Kind.RECORDS, "records/s", 2.28),
        REOPEN("DbReopenBenchmark.reopen", "reopen: open + WAL replay", "reopen", Kind.MILLIS, "ms", 0.5);

        final String method;
        final String label;
        final String chartLabel;
        final Kind kind;
        final String unit;
        final double target;

        Workload(String method, String label, String chartLabel, Kind kind, String unit, double target) {
            this.method = method;
            this.label = label;
            this.chartLabel = chartLabel;
            this.kind = kind;
            this.unit = unit;
            this.target = target;
        }

        boolean higherIsBetter() {
            return kind != Kind.MILLIS;
        }

        static Workload of(String benchmark) {
            for (Workload w : values()) {
                if (benchmark.endsWith("." + w.method)) {
                    return w;
                }
            }
            return null;
        }
    }

    /** One configuration (benchmark, engine, threads, parameters) of a run. */
    static final class Row {
        final String benchmark;
        final Workload workload;
        final String engine;
        final int threads;
        /** Parameters other than {@code engine}, sorted by name. */
        final Map<String, String> params;
        /** JMH's short mode label: thrpt, avgt, sample, ss. */
        final String mode;
        final double score;
        final double scoreError;
        final String unit;
        final int warmupIterations;
        final int measurementIterations;
        double rssPeakMiB = Double.NaN;
        double heapCommittedMiB = Double.NaN;

        Row(String benchmark, String engine, int threads, Map<String, String> params, String mode, double score,
                double scoreError, String unit, int warmupIterations, int measurementIterations) {
            this.benchmark = benchmark;
            this.workload = Workload.of(benchmark);
            this.engine = engine;
            this.threads = threads;
            this.params = new TreeMap<>(params);
            this.params.remove("engine");
            this.mode = mode;
            this.score = score;
            this.scoreError = scoreError;
            this.unit = unit;
            this.warmupIterations = warmupIterations;
            this.measurementIterations = measurementIterations;
        }

        long keys() {
            String k = params.get("keys");
            return k == null ? -1 : Long.parseLong(k);
        }

        String paramText() {
            StringBuilder sb = new StringBuilder();
            params.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v));
            return sb.length() == 0 ? "-" : sb.toString();
        }

        /** Pairs the two engines' rows of one configuration. */
        String configKey() {
            return benchmark + "|" + threads + "|" + params;
        }

        private double secondsPerOp() {
            return score * RatioReport.seconds(unit.split("/")[0]);
        }

        private double opsPerSecond() {
            return score / RatioReport.seconds(unit.split("/")[1]);
        }

        /** The figure in the workload's unit (see {@link Kind}). */
        double value() {
            boolean thrpt = mode.equals("thrpt");
            Kind kind = workload == null ? Kind.OPS : workload.kind;
            switch (kind) {
                case RECORDS:
                    return thrpt ? opsPerSecond() * keys() : keys() / secondsPerOp();
                case MILLIS:
                    return thrpt ? 1e3 / opsPerSecond() : secondsPerOp() * 1e3;
                default:
                    return thrpt ? opsPerSecond() : threads / secondsPerOp();
            }
        }

        /** JMH's error half-width relative to the score, or NaN. */
        double relativeError() {
            return Double.isFinite(scoreError) && score != 0 ? scoreError / score : Double.NaN;
        }
    }

    // ------------------------------------------------------------------------------------------ rows

    static List<Row> rows(Collection<RunResult> results) {
        List<Row> rows = new ArrayList<>();
        for (RunResult rr : results) {
            BenchmarkParams p = rr.getParams();
            Map<String, String> params = new LinkedHashMap<>();
            for (String k : p.getParamsKeys()) {
                params.put(k, p.getParam(k));
            }
            Result<?> primary = rr.getPrimaryResult();
            Row row = new Row(p.getBenchmark(), params.getOrDefault("engine", "?"), p.getThreads(), params,
                    p.getMode().shortLabel(), primary.getScore(), primary.getScoreError(), primary.getScoreUnit(),
                    p.getWarmup().getCount(), p.getMeasurement().getCount());
            Map<String, ?> secondary = rr.getSecondaryResults();
            for (Map.Entry<String, ?> e : secondary.entrySet()) {
                double v = ((Result<?>) e.getValue()).getScore();
                if (e.getKey().endsWith(RssProfiler.PEAK)) {
                    row.rssPeakMiB = v;
                } else if (e.getKey().endsWith(RssProfiler.HEAP)) {
                    row.heapCommittedMiB = v;
                }
            }
            rows.add(row);
        }
        sort(rows);
        return rows;
    }

    /** Rows from a JMH JSON result file ({@code -rf json}). */
    @SuppressWarnings("unchecked")
    static List<Row> rows(Path json) throws IOException {
        Object doc = MiniJson.parse(Files.readString(json));
        List<Row> rows = new ArrayList<>();
        for (Object o : (List<Object>) doc) {
            Map<String, Object> b = (Map<String, Object>) o;
            Map<String, String> params = new LinkedHashMap<>();
            Object ps = b.get("params");
            if (ps instanceof Map) {
                ((Map<String, Object>) ps).forEach((k, v) -> params.put(k, String.valueOf(v)));
            }
            Map<String, Object> primary = (Map<String, Object>) b.get("primaryMetric");
            Row row = new Row((String) b.get("benchmark"), params.getOrDefault("engine", "?"),
                    MiniJson.number(b.get("threads")).intValue(), params, (String) b.get("mode"),
                    MiniJson.number(primary.get("score")).doubleValue(),
                    MiniJson.number(primary.get("scoreError")).doubleValue(), (String) primary.get("scoreUnit"),
                    MiniJson.number(b.get("warmupIterations")).intValue(),
                    MiniJson.number(b.get("measurementIterations")).intValue());
            Object secondary = b.get("secondaryMetrics");
            if (secondary instanceof Map) {
                for (Map.Entry<String, Object> e : ((Map<String, Object>) secondary).entrySet()) {
                    double v = MiniJson.number(((Map<String, Object>) e.getValue()).get("score")).doubleValue();
                    if (e.getKey().endsWith(RssProfiler.PEAK)) {
                        row.rssPeakMiB = v;
                    } else if (e.getKey().endsWith(RssProfiler.HEAP)) {
                        row.heapCommittedMiB = v;
                    }
                }
            }
            rows.add(row);
        }
        sort(rows);
        return rows;
    }

    private static void sort(List<Row> rows) {
        rows.sort(Comparator.<Row>comparingInt(r -> r.workload == null ? Integer.MAX_VALUE : r.workload.ordinal())
                .thenComparing(r -> r.benchmark)
                .thenComparingInt(r -> r.threads)
                .thenComparing(Row::paramText)
                .thenComparing(r -> r.engine.equals(KvEngine.REDOUBT) ? 0 : 1));
    }

    /** One configuration with both engines' rows (either may be missing). */
    static final class Pair {
        final Row redoubt;
        final Row rocksdb;

        Pair(Row redoubt, Row rocksdb) {
            this.redoubt = redoubt;
            this.rocksdb = rocksdb;
        }

        Row any() {
            return redoubt != null ? redoubt : rocksdb;
        }

        double ratio() {
            return redoubt == null || rocksdb == null ? Double.NaN : redoubt.value() / rocksdb.value();
        }

        String verdict() {
            Workload w = any().workload;
            double r = ratio();
            if (w == null || Double.isNaN(w.target)) {
                return Double.isNaN(r) ? "" : "(no target)";
            }
            if (Double.isNaN(r)) {
                return "not measured";
            }
            boolean ok = w.higherIsBetter() ? r >= w.target : r <= w.target;
            return ok ? "meets" : "MISSES";
        }

        String targetText() {
            Workload w = any().workload;
            if (w == null || Double.isNaN(w.target)) {
                return "";
            }
            return (w.higherIsBetter() ? ">= " : "<= ") + BigDecimal.valueOf(w.target).stripTrailingZeros().toPlainString();
        }
    }

    static List<Pair> pairs(List<Row> rows) {
        Map<String, Row[]> byConfig = new LinkedHashMap<>();
        for (Row r : rows) {
            Row[] two = byConfig.computeIfAbsent(r.configKey(), k -> new Row[2]);
            two[r.engine.equals(KvEngine.REDOUBT) ? 0 : 1] = r;
        }
        List<Pair> pairs = new ArrayList<>();
        for (Row[] two : byConfig.values()) {
            pairs.add(new Pair(two[0], two[1]));
        }
        return pairs;
    }

    /** A run with no warmup or a single measured iteration anywhere: its figures only show that it all runs. */
    static boolean isSmoke(List<Row> rows) {
        return rows.stream().anyMatch(r -> r.warmupIterations == 0 || r.measurementIterations <= 1);
    }

    /** The distinct {@code keys} values of the run (ascending); empty when no row has the parameter. */
    static TreeSet<Long> keyCounts(List<Row> rows) {
        TreeSet<Long> keys = new TreeSet<>();
        for (Row r : rows) {
            if (r.keys() >= 0) {
                keys.add(r.keys());
            }
        }
        return keys;
    }

    // ------------------------------------------------------------------------------------------ printing

    public static void print(Collection<RunResult> results, PrintStream out) {
        if (results.isEmpty()) {
            out.println("No results (did the benchmark regex match nothing, or did every benchmark fail?)");
            return;
        }
        BenchmarkParams first = results.iterator().next().getParams();
        List<Row> rows = rows(results);
        out.printf("Redoubt vs RocksDB %s (rocksdbjni), %s%n", versions().getProperty("rocksdb", "?"),
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")));
        out.printf("JVM %s (%s %s), JMH %s, %s%n", first.getJdkVersion(), first.getVmName(), first.getVmVersion(),
                first.getJmhVersion(), machine(forkTmpDir(first.getJvmArgs())));
        print(rows, out);
    }

    static void print(List<Row> rows, PrintStream out) {
        if (isSmoke(rows)) {
            out.println("NOTE: smoke-length run (no warmup or a single iteration): the figures and ratios below only "
                    + "show that everything runs.");
        }
        out.println();
        String fmt = "%-26s %3s  %-24s %18s %18s  %-9s %6s  %-7s %s%n";
        out.printf(fmt, "workload", "thr", "params", "Redoubt", "RocksDB", "unit", "ratio", "target", "verdict");
        for (Pair p : pairs(rows)) {
            Row a = p.any();
            String label = a.workload == null ? shortName(a.benchmark) : a.workload.label;
            String unit = a.workload == null ? a.unit : a.workload.unit;
            out.println(String.format(Locale.ROOT, fmt, label, a.threads, a.paramText(), figure(p.redoubt),
                    figure(p.rocksdb), unit, ratio(p.ratio()), p.targetText(), p.verdict()).stripTrailing());
        }
        out.println("ratio = Redoubt / RocksDB of the figure in that row (for the reopen: of the times, so lower is "
                + "better); ± = JMH's 99.9% confidence half-width.");
        out.println();
        memory(rows, out);
    }

    private static void memory(List<Row> rows, PrintStream out) {
        List<Pair> withRss = new ArrayList<>();
        for (Pair p : pairs(rows)) {
            if ((p.redoubt != null && !Double.isNaN(p.redoubt.rssPeakMiB))
                    || (p.rocksdb != null && !Double.isNaN(p.rocksdb.rssPeakMiB))) {
                withRss.add(p);
            }
        }
        if (withRss.isEmpty()) {
            out.println("Memory: not measured (run through DbBenchmarks, or add -prof dev.redoubt.bench.RssProfiler)");
            return;
        }
        out.println("Memory: peak RSS of each fork (VmHWM, MiB), Java heap committed at the end in brackets");
        String fmt = "%-26s %3s  %-24s %20s %20s%n";
        out.printf(fmt, "workload", "thr", "params", "Redoubt", "RocksDB");
        for (Pair p : withRss) {
            Row a = p.any();
            out.printf(Locale.ROOT, fmt, a.workload == null ? shortName(a.benchmark) : a.workload.label, a.threads,
                    a.paramText(), rss(p.redoubt), rss(p.rocksdb));
        }
        out.println(rssVerdict(rows));
    }

    /** The RSS target's line: judged on Redoubt's fill forks with at least 10 M keys, else how to measure it. */
    static String rssVerdict(List<Row> rows) {
        double worst = Double.NaN;
        long keys = -1;
        for (Row r : rows) {
            if (r.engine.equals(KvEngine.REDOUBT) && (r.workload == Workload.FILLRANDOM || r.workload == Workload.FILLSEQ)
                    && r.keys() >= RSS_TARGET_KEYS && !Double.isNaN(r.rssPeakMiB)) {
                if (Double.isNaN(worst) || r.rssPeakMiB > worst) {
                    worst = r.rssPeakMiB;
                    keys = r.keys();
                }
            }
        }
        if (Double.isNaN(worst)) {
            return "RSS target (load 10 M records, default options, peak RSS < 512 MiB): not measured in this run; "
                    + "run: " + RSS_COMMAND;
        }
        return String.format(Locale.ROOT, "RSS target (load %d records, default options, peak RSS < 512 MiB): "
                + "Redoubt peak %.0f MiB: %s", keys, worst, worst < RSS_TARGET_MIB ? "meets" : "MISSES");
    }

    /** The table in markdown, for jmh/README.md. */
    static String markdown(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | threads | params | Redoubt | RocksDB | unit | Redoubt ÷ RocksDB | target | verdict |\n");
        sb.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Pair p : pairs(rows)) {
            Row a = p.any();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |%n",
                    a.workload == null ? shortName(a.benchmark) : a.workload.label, a.threads, a.paramText(),
                    figure(p.redoubt), figure(p.rocksdb), a.workload == null ? a.unit : a.workload.unit,
                    ratio(p.ratio()), p.targetText().replace(">=", "≥").replace("<=", "≤"), p.verdict()));
        }
        boolean anyRss = rows.stream().anyMatch(r -> !Double.isNaN(r.rssPeakMiB));
        if (anyRss) {
            sb.append("\n| peak RSS (VmHWM) of the fork, MiB [heap committed] | threads | params | Redoubt | RocksDB |\n");
            sb.append("| --- | --- | --- | --- | --- |\n");
            for (Pair p : pairs(rows)) {
                Row a = p.any();
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s |%n",
                        a.workload == null ? shortName(a.benchmark) : a.workload.label, a.threads, a.paramText(),
                        rss(p.redoubt), rss(p.rocksdb)));
            }
            sb.append('\n').append(rssVerdict(rows)).append('\n');
        }
        return sb.toString();
    }

    private static String ratio(double r) {
        return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.2f", r);
    }

    private static String figure(Row r) {
        if (r == null) {
            return "-";
        }
        double e = r.relativeError();
        return RatioReport.num(r.value()) + (Double.isNaN(e) ? "" : String.format(Locale.ROOT, " ± %.0f%%", 100 * e));
    }

    private static String rss(Row r) {
        if (r == null || Double.isNaN(r.rssPeakMiB)) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.0f [%.0f]", r.rssPeakMiB, r.heapCommittedMiB);
    }

    private static String shortName(String benchmark) {
        int dot = benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1);
        return benchmark.substring(dot + 1);
    }

    /** The forks' java.io.tmpdir: the last -Djava.io.tmpdir in their JVM arguments, else this JVM's. */
    static String forkTmpDir(Collection<String> jvmArgs) {
        String dir = System.getProperty("java.io.tmpdir");
        for (String a : jvmArgs) {
            if (a.startsWith("-Djava.io.tmpdir=")) {
                dir = a.substring("-Djava.io.tmpdir=".length());
            }
        }
        return dir;
    }

    /** CPUs, CPU model, kernel, and the file system the data went to. */
    static String machine(String tmpDir) {
        String model = "?";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        String fs = "?";
        try {
            fs = Files.getFileStore(Path.of(tmpDir)).type();
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return String.format("%d CPUs (%s), %s %s, data under %s (%s)", Runtime.getRuntime().availableProcessors(),
                model, System.getProperty("os.name"), System.getProperty("os.version"), tmpDir, fs);
    }

    /** The versions the build filled in (rocksdb, xchart, jmh). */
    static Properties versions() {
        Properties p = new Properties();
        try (InputStream in = DbReport.class.getResourceAsStream("versions.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
