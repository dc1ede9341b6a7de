package dev.redoubt.bench;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Runs the Db comparison, Redoubt and RocksDB side by side in one JMH run ({@link DbFillBenchmark},
 * {@link DbSyncWriteBenchmark}, {@link DbReadBenchmark}, {@link DbReopenBenchmark}, each with
 * {@code @Param engine = redoubt, rocksdb}), then prints the table of figures and target ratios
 * ({@link DbReport}) and its markdown, and draws the charts ({@link BenchCharts}) into
 * {@code -Dredoubt.bench.charts=DIR} when that is set. {@code bin/bench --db} is the front end.
 *
 * <p>Arguments are JMH's own command line ({@code -p keys=10000000}, {@code -wi}, {@code -rf json -rff FILE}, a
 * benchmark regex, ...). With no regex it runs {@value #DEFAULT_INCLUDE}. {@link RssProfiler} is always on
 * (unless {@code -Dredoubt.bench.rss=false}): the peak RSS of each fork is part of the report. {@code -h},
 * {@code -l}, {@code -lp} and {@code -lrf} go to JMH's own main.
 */
public final class DbBenchmarks {
    public static final String DEFAULT_INCLUDE =
            "^dev\\.redoubt\\.bench\\.Db(Fill|SyncWrite|Read|Reopen)Benchmark\\.";

    private DbBenchmarks() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions cmd = BenchCommandLine.parse(args);
        if (cmd == null) {
            return;
        }
        ChainedOptionsBuilder options = BenchCommandLine.options(cmd, DEFAULT_INCLUDE);
        boolean rssRequested = BenchCommandLine.profilerRequested(cmd, RssProfiler.class.getName());
        if (!rssRequested && Boolean.parseBoolean(System.getProperty("redoubt.bench.rss", "true"))) {
            options.addProfiler(RssProfiler.class);
        }

        Collection<RunResult> results;
        try {
            results = new Runner(options.build()).run();
        } catch (RunnerException e) {
            System.err.println("The benchmark run failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
            return;
        }
        System.out.println();
        DbReport.print(results, System.out);
        if (results.isEmpty()) {
            return;
        }
        List<DbReport.Row> rows = DbReport.rows(results);
        System.out.println();
        System.out.println("Markdown (for jmh/README.md):");
        System.out.println();
        System.out.print(DbReport.markdown(rows));
        String charts = System.getProperty("redoubt.bench.charts");
        if (charts != null && !charts.isBlank()) {
            String label = System.getProperty("redoubt.bench.label",
                    "run of " + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")));
            System.out.println();
            for (Path p : BenchCharts.render(rows, Path.of(charts), label)) {
                System.out.println("wrote " + p);
            }
        }
    }
}
