package dev.redoubt.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The figures of a {@link RaftHarness} run and their three forms: a markdown table (a row per writer count and
 * one for reads, to paste into {@code jmh/README.md}), a JSON file (the run's setup, every round, the medians,
 * the ratios and the elections) and a PNG chart of writes/s by writer count ({@link BenchCharts#bars}).
 */
final class RaftReport {
    static final String REDOUBT = "Redoubt 3-member group";
    static final String ETCD = "etcd 3-member group";
    static final String SINGLE = "single-node Redoubt SYNC";

    private final Map<String, Object> setup;
    private final List<Row> rows = new ArrayList<>();
    private RaftElections.Summary elections;

    /** {@code setup}: what the JSON says about the run (options, machine, versions), in its order. */
    RaftReport(Map<String, Object> setup) {
        this.setup = setup;
    }

    /** One system at one load: the rounds, and their medians. */
    record Figures(List<ClosedLoopLoad.Result> rounds) {
        double opsPerSecond() {
            return median(ClosedLoopLoad.Result::opsPerSecond);
        }

        double p50Millis() {
            return median(ClosedLoopLoad.Result::p50Millis);
        }

        double p99Millis() {
            return median(ClosedLoopLoad.Result::p99Millis);
        }

        private double median(ToDoubleFunction<ClosedLoopLoad.Result> figure) {
            double[] v = rounds.stream().mapToDouble(figure).sorted().toArray();
            int n = v.length;
            return n == 0 ? Double.NaN : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        }

        String cell(String unit) {
            return String.format(Locale.ROOT, "%s %s/s, p50 %.2f ms, p99 %.2f ms", count(opsPerSecond()), unit,
                    p50Millis(), p99Millis());
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("opsPerSecond", round(opsPerSecond()));
            m.put("p50Millis", round(p50Millis()));
            m.put("p99Millis", round(p99Millis()));
            List<Object> each = new ArrayList<>();
            for (ClosedLoopLoad.Result r : rounds) {
                Map<String, Object> round = new LinkedHashMap<>();
                round.put("operations", r.operations());
                round.put("opsPerSecond", round(r.opsPerSecond()));
                round.put("p50Millis", round(r.p50Millis()));
                round.put("p99Millis", round(r.p99Millis()));
                each.add(round);
            }
            m.put("rounds", each);
            return m;
        }
    }

    /**
     * The figures at one load: {@code threads} writers (or readers, {@code reads}); etcd's and the single node's
     * null when not measured (the single node is not, for reads).
     */
    record Row(boolean reads, int threads, Figures redoubt, Figures etcd, Figures single) {
        String load() {
            return RaftReport.load(reads, threads) + (reads ? " (linearizable)" : "");
        }

        double redoubtOverEtcd() {
            return etcd == null ? Double.NaN : redoubt.opsPerSecond() / etcd.opsPerSecond();
        }

        double groupOverSingle() {
            return single == null ? Double.NaN : redoubt.opsPerSecond() / single.opsPerSecond();
        }

        /** The console line of the load's medians and ratios. */
        String summary() {
            String unit = reads ? "reads" : "writes";
            StringBuilder s = new StringBuilder(load()).append(", medians: ").append(REDOUBT).append(' ')
                    .append(redoubt.cell(unit));
            if (etcd != null) {
                s.append(" | ").append(ETCD).append(' ').append(etcd.cell(unit))
                        .append(String.format(Locale.ROOT, " | Redoubt ÷ etcd %.3f", redoubtOverEtcd()));
            }
            if (single != null) {
                s.append(" | ").append(SINGLE).append(' ').append(single.cell(unit))
                        .append(String.format(Locale.ROOT, " | group ÷ single-node %.4f", groupOverSingle()));
            }
            return s.toString();
        }
    }

    /** "1 writer", "8 writers", "8 readers". */
    static String load(boolean reads, int threads) {
        return threads + (reads ? " reader" : " writer") + (threads == 1 ? "" : "s");
    }

    void add(Row row) {
        rows.add(row);
    }

    void elections(RaftElections.Summary summary) {
        elections = summary;
    }

    /** The table: a row per load; throughput with p50 and p99 per system, and the two throughput ratios. */
    void printMarkdown(PrintStream out) {
        out.println("| load | " + REDOUBT + " | " + ETCD + " | Redoubt ÷ etcd | " + SINGLE
                + " | group ÷ single-node |");
        out.println("|---|---|---|---|---|---|");
        for (Row r : rows) {
            String unit = r.reads() ? "reads" : "writes";
            out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |%n", r.load(), r.redoubt().cell(unit),
                    r.etcd() == null ? "–" : r.etcd().cell(unit), ratio(r.redoubtOverEtcd(), 3),
                    r.single() == null ? "–" : r.single().cell(unit), ratio(r.groupOverSingle(), 4));
        }
    }

    void writeJson(Path file) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>(setup);
        List<Object> writes = new ArrayList<>();
        Map<String, Object> reads = null;
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(r.reads() ? "readers" : "writers", r.threads());
            m.put("redoubt", r.redoubt().json());
            m.put("etcd", r.etcd() == null ? null : r.etcd().json());
            m.put("redoubtOverEtcd", round(r.redoubtOverEtcd()));
            if (r.reads()) {
                reads = m;
            } else {
                m.put("singleNodeSync", r.single() == null ? null : r.single().json());
                m.put("groupOverSingleNode", round(r.groupOverSingle()));
                writes.add(m);
            }
        }
        doc.put("writes", writes);
        doc.put("reads", reads);
        Map<String, Object> kills = null;
        if (elections != null) {
            kills = new LinkedHashMap<>();
            kills.put("kills", elections.kills());
            kills.put("electedMillis", millis(elections.electedNanos()));
            kills.put("firstWriteMillis", millis(elections.firstWriteNanos()));
        }
        doc.put("elections", kills);
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(file, MiniJson.write(doc));
    }

    /** Writes/s by writer count, a bar per system measured; {@code label} names the run. */
    Path drawWrites(Path png, boolean smoke, String label) throws IOException {
        List<String> loads = new ArrayList<>();
        List<Double> redoubt = new ArrayList<>();
        List<Double> etcd = new ArrayList<>();
        for (Row r : rows) {
            if (!r.reads()) {
                loads.add(r.load());
                redoubt.add(r.redoubt().opsPerSecond());
                etcd.add(r.etcd() == null ? null : r.etcd().opsPerSecond());
            }
        }
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put(REDOUBT, redoubt);
        if (etcd.stream().anyMatch(v -> v != null)) {
            series.put(ETCD, etcd);
        }
        String title = (smoke ? "SMOKE RUN, figures meaningless. " : "")
                + "Writes/s of closed-loop writers, a client each (medians), higher is better";
        return BenchCharts.bars(png, title, label, "acknowledged writes per second", loads, series);
    }

    private static Map<String, Object> millis(long[] sortedNanos) {
        double[] m = RaftElections.Summary.millis(sortedNanos);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("median", round(m[0]));
        out.put("p99", round(m[1]));
        out.put("max", round(m[2]));
        out.put("all", Arrays.stream(sortedNanos).mapToObj(n -> (Object) round(n / 1e6)).toList());
        return out;
    }

    private static String ratio(double r, int decimals) {
        return Double.isNaN(r) ? "–" : String.format(Locale.ROOT, "**%." + decimals + "f**", r);
    }

    /** A count with a space between thousands, as jmh/README.md writes them: 15 168. */
    private static String count(double v) {
        return String.format(Locale.ROOT, "%,.0f", v).replace(',', ' ');
    }

    /** {@code v} to 6 significant digits (the JSON needs no more). */
    private static double round(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? v : Double.parseDouble(String.format(Locale.ROOT, "%.6g", v));
    }
}
