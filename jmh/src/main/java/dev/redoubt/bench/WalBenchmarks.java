package dev.redoubt.bench;

import java.util.Collection;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Runs the WAL benchmarks and their physical baselines in one JMH run, then prints the figures and the target
 * ratios ({@link RatioReport}) from the results JMH hands back. {@code bin/bench} is the front end.
 *
 * <p>Arguments are JMH's own command line ({@code -prof}, {@code -wi}, {@code -rf json -rff FILE}, a benchmark
 * regex, ...). Additions: with no benchmark regex it runs {@value #DEFAULT_INCLUDE}; the {@code gc} profiler is
 * always on (unless {@code -Dredoubt.bench.gc=false}), because the allocation per append is one of the
 * targets. {@code -h}, {@code -l}, {@code -lp} and {@code -lrf} go to JMH's own main.
 */
public final class WalBenchmarks {
    /** The WAL append benchmarks and the raw FileChannel baselines they are compared with. */
    public static final String DEFAULT_INCLUDE =
            "^dev\\.redoubt\\.bench\\.(WalAppendBenchmark|RawFileChannelBaseline)\\.";

    private WalBenchmarks() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions cmd = BenchCommandLine.parse(args);
        if (cmd == null) {
            return;
        }
        ChainedOptionsBuilder options = BenchCommandLine.options(cmd, DEFAULT_INCLUDE);
        boolean gcRequested = BenchCommandLine.profilerRequested(cmd, "gc", GCProfiler.class.getName());
        if (!gcRequested && Boolean.parseBoolean(System.getProperty("redoubt.bench.gc", "true"))) {
            options.addProfiler(GCProfiler.class);
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
        RatioReport.print(results, System.out);
    }
}
