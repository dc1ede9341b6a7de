package dev.redoubt.bench;

import dev.redoubt.bench.DbReport.Kind;
import dev.redoubt.bench.DbReport.Pair;
import dev.redoubt.bench.DbReport.Row;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;

/**
 * PNG charts (XChart) of a Db comparison run, one set per {@code keys} value of the run, named with it
 * ({@code -1M}, {@code -10M}), next to the same table in markdown:
 *
 * <ul>
 *   <li>{@code db-throughput-<keys>.png}: every throughput workload, both engines, operations (or records) per
 *       second on a log scale, with JMH's error bars;</li>
 *   <li>{@code db-ratios-<keys>.png}: Redoubt ÷ RocksDB per workload next to its target, higher is better (the
 *       reopen as RocksDB's time ÷ Redoubt's, so its target 0.8 shows as 1.25), a line at parity;</li>
 *   <li>{@code db-reopen-<keys>.png}: open + WAL replay time of both engines, ms;</li>
 *   <li>{@code db-memory-<keys>.png}: peak RSS of each fork (VmHWM), a line at the 1.5 GiB RSS target;</li>
 *   <li>{@code db-results-<keys>.md}: the table ({@link DbReport#markdown}).</li>
 * </ul>
 *
 * <p>{@link DbBenchmarks} calls {@link #render} at the end of a run when {@code -Dredoubt.bench.charts=DIR} is set
 * ({@code bin/bench --db} sets {@code docs/bench} for full runs); this main redraws them from a JSON file:
 * {@code java -cp jmh/target/benchmarks.jar dev.redoubt.bench.BenchCharts jmh/results/db-<date>.json [DIR]}
 * (DIR defaults to {@code docs/bench}); it prints the table too. A smoke-length run's charts say so in the title.
 *
 * <p>{@link #bars} draws one grouped bar chart for the harnesses ({@link RaftHarness}: Redoubt vs etcd).
 */
public final class BenchCharts {
    private static final Color REDOUBT = new Color(0x1f, 0x77, 0xb4);
    private static final Color ROCKSDB = new Color(0x7f, 0x7f, 0x7f);
    private static final Color TARGET = new Color(0xff, 0x7f, 0x0e);
    private static final int WIDTH = 1100;
    private static final int HEIGHT = 620;

    private BenchCharts() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2 || args[0].startsWith("-")) {
            System.err.println("usage: BenchCharts RESULT.json [OUTPUT_DIR]   (JMH JSON of a DbBenchmarks run; "
                    + "output defaults to docs/bench)");
            System.exit(2);
            return;
        }
        Path json = Path.of(args[0]);
        Path out = Path.of(args.length > 1 ? args[1] : "docs/bench");
        List<Row> rows = DbReport.rows(json);
        System.out.println("Redoubt vs RocksDB, from " + json);
        DbReport.print(rows, System.out);
        for (Path p : render(rows, out, json.getFileName().toString())) {
            System.out.println("wrote " + p);
        }
    }

    /** Writes the charts and the markdown table into {@code dir}; returns the files written. */
    static List<Path> render(List<Row> rows, Path dir, String runLabel) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        TreeSet<Long> keyCounts = DbReport.keyCounts(rows);
        if (keyCounts.isEmpty()) {
            keyCounts.add(-1L);
        }
        boolean smoke = DbReport.isSmoke(rows);
        String rocks = DbReport.versions().getProperty("rocksdb", "");
        for (long keys : keyCounts) {
            List<Row> subset = new ArrayList<>();
            for (Row r : rows) {
                if (r.keys() < 0 || r.keys() == keys) {
                    subset.add(r);
                }
            }
            String suffix = keys < 0 ? "" : "-" + keysLabel(keys);
            String title = (smoke ? "SMOKE RUN, figures meaningless. " : "")
                    + (keys < 0 ? "" : keysLabel(keys) + " keys. ");
            String source = "Redoubt vs RocksDB " + rocks + ", one JMH run: " + runLabel;
            List<Pair> pairs = DbReport.pairs(subset);
            written.add(save(throughput(pairs, title, source), dir.resolve("db-throughput" + suffix)));
            written.add(save(ratios(pairs, title, source), dir.resolve("db-ratios" + suffix)));
            CategoryChart reopen = reopen(pairs, title, source);
            if (reopen != null) {
                written.add(save(reopen, dir.resolve("db-reopen" + suffix)));
            }
            CategoryChart memory = memory(pairs, title, source);
            if (memory != null) {
                written.add(save(memory, dir.resolve("db-memory" + suffix)));
            }
            Path md = dir.resolve("db-results" + suffix + ".md");
            Files.writeString(md, "<!-- written by dev.redoubt.bench.BenchCharts from " + runLabel + " -->\n"
                    + (smoke ? "**Smoke-length run: the figures only show that everything runs.**\n\n" : "")
                    + DbReport.markdown(subset));
            written.add(md);
        }
        return written;
    }

    /**
     * A grouped bar chart into {@code png}: a bar per category and series, the value written on it (null: no
     * bar); the series in Redoubt's blue, then grey, then orange. Returns {@code png}.
     */
    static Path bars(Path png, String title, String xTitle, String yTitle, List<String> categories,
            Map<String, List<Double>> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CategoryChart c = chart(title, xTitle, yTitle);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisDecimalPattern("#,###");
        c.getStyler().setXAxisLabelRotation(0);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS); // never over a bar
        Color[] colors = {REDOUBT, ROCKSDB, TARGET};
        int i = 0;
        for (Map.Entry<String, List<Double>> s : series.entrySet()) {
            series(c, s.getKey(), categories, s.getValue(), null, colors[i++ % colors.length]);
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        String name = png.getFileName().toString();
        return save(c, png.resolveSibling(name.endsWith(".png") ? name.substring(0, name.length() - 4) : name));
    }

    /** "1M", "10M", "100k", or the number. */
    static String keysLabel(long keys) {
        if (keys >= 1_000_000 && keys % 1_000_000 == 0) {
            return keys / 1_000_000 + "M";
        }
        if (keys >= 1000 && keys % 1000 == 0) {
            return keys / 1000 + "k";
        }
        return Long.toString(keys);
    }

    private static String category(Row r) {
        return r.workload == null ? r.benchmark.substring(r.benchmark.lastIndexOf('.') + 1) : r.workload.chartLabel;
    }

    private static CategoryChart chart(String title, String source, String yTitle) {
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(source)
                .yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setXAxisLabelRotation(20);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridVerticalLinesVisible(false);
        c.getStyler().setLabelsVisible(true);
        c.getStyler().setLabelsRotation(0);
        c.getStyler().setAvailableSpaceFill(0.8);
        return c;
    }

    private static CategoryChart throughput(List<Pair> pairs, String title, String source) {
        List<String> x = new ArrayList<>();
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        List<Double> ea = new ArrayList<>();
        List<Double> eb = new ArrayList<>();
        for (Pair p : pairs) {
            if (p.redoubt == null || p.rocksdb == null || (p.any().workload != null
                    && p.any().workload.kind == Kind.MILLIS)) {
                continue;
            }
            x.add(category(p.any()));
            a.add(p.redoubt.value());
            b.add(p.rocksdb.value());
            // An error bar reaching zero or below cannot be drawn on a log axis: clamp it to half the value.
            ea.add(Math.min(absError(p.redoubt), p.redoubt.value() / 2));
            eb.add(Math.min(absError(p.rocksdb), p.rocksdb.value() / 2));
        }
        CategoryChart c = chart(title + "Throughput, higher is better", source,
                "operations or records per second (log scale)");
        c.getStyler().setYAxisDecimalPattern("#,###");
        if (x.isEmpty()) {
            return c;
        }
        double lowest = Double.MAX_VALUE;
        for (int i = 0; i < x.size(); i++) {
            lowest = Math.min(lowest, Math.min(a.get(i) - ea.get(i), b.get(i) - eb.get(i)));
        }
        // XChart's log axis needs a positive minimum (bars start from it): the decade below the lowest bar.
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(Math.max(lowest, 1e-3)))));
        series(c, "Redoubt", x, a, ea, REDOUBT);
        series(c, "RocksDB", x, b, eb, ROCKSDB);
        return c;
    }

    private static CategoryChart ratios(List<Pair> pairs, String title, String source) {
        List<String> x = new ArrayList<>();
        List<Double> ratio = new ArrayList<>();
        List<Double> target = new ArrayList<>();
        for (Pair p : pairs) {
            double r = p.ratio();
            if (Double.isNaN(r)) {
                continue;
            }
            DbReport.Workload w = p.any().workload;
            boolean inverted = w != null && !w.higherIsBetter();
            x.add(category(p.any()) + (inverted ? " (time⁻¹)" : ""));
            ratio.add(inverted ? 1 / r : r);
            target.add(w == null || Double.isNaN(w.target) ? null : inverted ? 1 / w.target : w.target);
        }
        CategoryChart c = chart(title + "Redoubt ÷ RocksDB, higher is better (line: parity)", source, "ratio");
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisDecimalPattern("0.00");
        if (x.isEmpty()) {
            return c;
        }
        series(c, "Redoubt ÷ RocksDB", x, ratio, null, REDOUBT);
        series(c, "target", x, target, null, TARGET);
        c.addAnnotation(new AnnotationLine(1.0, false, false));
        return c;
    }

    private static CategoryChart reopen(List<Pair> pairs, String title, String source) {
        for (Pair p : pairs) {
            if (p.redoubt != null && p.rocksdb != null && p.any().workload == DbReport.Workload.REOPEN) {
                List<String> x = List.of(String.format(Locale.ROOT, "open + replay of %,d records", p.any().keys()));
                CategoryChart c = chart(title + "Reopen with WAL replay, lower is better", source, "ms");
                c.getStyler().setYAxisMin(0.0);
                c.getStyler().setYAxisDecimalPattern("#,###");
                c.getStyler().setXAxisLabelRotation(0);
                c.getStyler().setAvailableSpaceFill(0.5);
                series(c, "Redoubt", x, List.of(p.redoubt.value()), List.of(absError(p.redoubt)), REDOUBT);
                series(c, "RocksDB", x, List.of(p.rocksdb.value()), List.of(absError(p.rocksdb)), ROCKSDB);
                return c;
            }
        }
        return null;
    }

    private static CategoryChart memory(List<Pair> pairs, String title, String source) {
        List<String> x = new ArrayList<>();
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (Pair p : pairs) {
            if (p.redoubt == null || p.rocksdb == null || Double.isNaN(p.redoubt.rssPeakMiB)
                    || Double.isNaN(p.rocksdb.rssPeakMiB)) {
                continue;
            }
            x.add(category(p.any()));
            a.add(p.redoubt.rssPeakMiB);
            b.add(p.rocksdb.rssPeakMiB);
        }
        if (x.isEmpty()) {
            return null;
        }
        CategoryChart c = chart(title + "Peak RSS of the fork (VmHWM), lower is better (line: 512 MiB)", source, "MiB");
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(Math.max(DbReport.RSS_TARGET_MIB * 1.1,
                1.1 * Math.max(a.stream().mapToDouble(d -> d).max().orElse(0), b.stream().mapToDouble(d -> d).max()
                        .orElse(0))));
        c.getStyler().setYAxisDecimalPattern("#,###");
        series(c, "Redoubt", x, a, null, REDOUBT);
        series(c, "RocksDB", x, b, null, ROCKSDB);
        c.addAnnotation(new AnnotationLine(DbReport.RSS_TARGET_MIB, false, false)); // 512 MiB (judged at 10 M keys)
        return c;
    }

    private static void series(CategoryChart c, String name, List<String> x, List<Double> y, List<Double> errors,
            Color color) {
        CategorySeries s = errors == null ? c.addSeries(name, x, y) : c.addSeries(name, x, y, errors);
        s.setFillColor(color);
    }

    private static double absError(Row r) {
        double e = r.relativeError();
        return Double.isNaN(e) ? 0.0 : e * r.value();
    }

    private static Path save(CategoryChart chart, Path withoutExtension) throws IOException {
        BitmapEncoder.saveBitmap(chart, withoutExtension.toString(), BitmapEncoder.BitmapFormat.PNG);
        return withoutExtension.resolveSibling(withoutExtension.getFileName() + ".png");
    }
}
