package dev.redoubt.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed-loop load, the measuring loop of the harnesses: {@code threads} threads, each with its own client,
 * each starting an operation as soon as its previous one returned, first for a warm-up and then for a measured
 * period; the result is the measured period's operations per second (all threads together) and the p50 and p99
 * latency of its operations.
 *
 * <p>Each thread opens its client itself ({@link Connect}: the connection, and a first call that finds the
 * leader), and the clock starts once every thread has; all threads then share one schedule. An operation is
 * measured when it starts within the measured period; a thread stops with the first operation that ends after
 * it, and the throughput is the measured operations over the time from the period's start to the last one's
 * end, so an operation in flight at the end is neither lost nor cut. A failure (of a connect, an operation or
 * a close) stops every thread and fails the load.
 */
final class ClosedLoopLoad {
    /** For a load whose operations share one object (a {@code Db}) and need no client of their own. */
    static final AutoCloseable NO_CLIENT = () -> { };

    private final String name;
    private final Thread[] workers;
    private final long[][] latencies;
    private final int[] counts;
    private final long[] lastEnds;
    private final CountDownLatch connected;
    private final CountDownLatch go = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final long warmupNanos;
    private final long measuredNanos;
    private volatile long measureStart;

    /** Opens the client of thread {@code thread} (0 to threads - 1). */
    @FunctionalInterface
    interface Connect<C extends AutoCloseable> {
        C open(int thread) throws Exception;
    }

    /** One operation of thread {@code thread}: its {@code n}th, counted from 0 at the start of the warm-up. */
    @FunctionalInterface
    interface Operation<C> {
        void run(C client, int thread, long n) throws Exception;
    }

    /** The measured period's figures. */
    record Result(long operations, double opsPerSecond, double p50Millis, double p99Millis) {
        /** E.g. "196 writes/s, p50 46.40 ms, p99 99.80 ms" for {@code unit} "writes". */
        String format(String unit) {
            return String.format(Locale.ROOT, "%.0f %s/s, p50 %.2f ms, p99 %.2f ms", opsPerSecond, unit, p50Millis,
                    p99Millis);
        }

        @Override
        public String toString() {
            return format("ops");
        }
    }

    private ClosedLoopLoad(String name, int threads, Duration warmup, Duration measured) {
        if (threads < 1 || measured.isNegative() || measured.isZero() || warmup.isNegative()) {
            throw new IllegalArgumentException("a load needs threads >= 1, a measured period > 0 and a warm-up >= 0");
        }
        this.name = name;
        this.workers = new Thread[threads];
        this.latencies = new long[threads][];
        this.counts = new int[threads];
        this.lastEnds = new long[threads];
        this.connected = new CountDownLatch(threads);
        this.warmupNanos = warmup.toNanos();
        this.measuredNanos = measured.toNanos();
    }

    /** Runs the load to its end: {@link #start}, then {@link #await}. */
    static <C extends AutoCloseable> Result run(String name, int threads, Duration warmup, Duration measured,
            Connect<C> connect, Operation<C> operation) throws InterruptedException {
        return start(name, threads, warmup, measured, connect, operation).await();
    }

    /**
     * Starts the threads (named {@code name-N}), waits until every client is open, starts the clock and returns:
     * two loads started one after the other run at the same time.
     */
    static <C extends AutoCloseable> ClosedLoopLoad start(String name, int threads, Duration warmup, Duration measured,
            Connect<C> connect, Operation<C> operation) throws InterruptedException {
        ClosedLoopLoad load = new ClosedLoopLoad(name, threads, warmup, measured);
        for (int t = 0; t < threads; t++) {
            int id = t;
            load.workers[t] = new Thread(() -> load.work(id, connect, operation), name + "-" + t);
            load.workers[t].start();
        }
        load.connected.await();
        load.measureStart = System.nanoTime() + load.warmupNanos;
        load.go.countDown();
        return load;
    }

    private <C extends AutoCloseable> void work(int id, Connect<C> connect, Operation<C> operation) {
        long[] mine = new long[1 << 12];
        int count = 0;
        long lastEnd = 0;
        C client = null;
        try {
            client = connect.open(id);
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        } finally {
            connected.countDown();
        }
        if (client == null) {
            return;
        }
        try (C c = client) {
            go.await();
            long start = measureStart;
            long end = start + measuredNanos;
            for (long n = 0; failure.get() == null; n++) {
                long before = System.nanoTime();
                if (before >= end) {
                    break;
                }
                operation.run(c, id, n);
                long after = System.nanoTime();
                if (before >= start) {
                    if (count == mine.length) {
                        mine = Arrays.copyOf(mine, count * 2);
                    }
                    mine[count++] = after - before;
                    lastEnd = after;
                }
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
        latencies[id] = mine;
        counts[id] = count;
        lastEnds[id] = lastEnd;
    }

    /** Waits for every thread; the figures, or an {@link IllegalStateException} with the first failure. */
    Result await() throws InterruptedException {
        for (Thread w : workers) {
            w.join();
        }
        Throwable f = failure.get();
        if (f != null) {
            throw new IllegalStateException(name + " failed: " + f, f);
        }
        long[] all = new long[Arrays.stream(counts).sum()];
        int at = 0;
        long lastEnd = measureStart;
        for (int t = 0; t < workers.length; t++) {
            System.arraycopy(latencies[t], 0, all, at, counts[t]);
            at += counts[t];
            lastEnd = Math.max(lastEnd, lastEnds[t]);
        }
        Arrays.sort(all);
        double seconds = Math.max(lastEnd - measureStart, measuredNanos) / 1e9;
        return new Result(all.length, all.length / seconds, percentileMillis(all, 0.50), percentileMillis(all, 0.99));
    }

    /** The {@code q} quantile (nearest rank) of sorted nanoseconds, in milliseconds; NaN when empty. */
    static double percentileMillis(long[] sortedNanos, double q) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(q * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, i)] / 1e6;
    }
}
