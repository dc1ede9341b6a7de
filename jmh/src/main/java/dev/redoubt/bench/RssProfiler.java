package dev.redoubt.bench;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * The fork's memory after each iteration, as secondary results: {@code rss.peak} is {@code VmHWM} from
 * {@code /proc/self/status}, the peak resident set of the fork so far (its setup, warmup and every iteration
 * until then: for a fill, the peak while loading); {@code heap.committed} is the Java heap the JVM had committed
 * at the end of the iteration, which is part of that RSS. Both in MiB, the maximum over the iterations.
 * {@link DbBenchmarks} adds it to every run (off with {@code -Dredoubt.bench.rss=false}); also
 * {@code -prof dev.redoubt.bench.RssProfiler} with plain JMH.
 */
public final class RssProfiler implements InternalProfiler {
    public static final String PEAK = "rss.peak";
    public static final String HEAP = "heap.committed";

    @Override
    public String getDescription() {
        return "peak RSS (VmHWM) of the fork and committed Java heap, MiB";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    }

    @Override
    @SuppressWarnings("rawtypes") // JMH's signature
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams,
            IterationParams iterationParams, IterationResult result) {
        long hwm = DbBenchSupport.procStatusKiB("VmHWM");
        double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / 1048576.0;
        if (hwm < 0) {
            return List.of(new ScalarResult(HEAP, heap, "MiB", AggregationPolicy.MAX));
        }
        return List.of(new ScalarResult(PEAK, hwm / 1024.0, "MiB", AggregationPolicy.MAX),
                new ScalarResult(HEAP, heap, "MiB", AggregationPolicy.MAX));
    }
}
