package dev.redoubt.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Proves the etcd peer runs: an {@link EtcdGroup} in a temporary directory, then at once 1 writer doing
 * closed-loop puts of 100-byte values and 8 readers doing linearizable gets ({@link EtcdKvClient}), for 3 s, a
 * client each; prints ops/s and p50/p99 of each side, stops the group and deletes the directory. A smoke, not the
 * benchmark: the figures only show the order of magnitude.
 *
 * <p>Run: {@code java <redoubt.jvm.flags> -cp jmh/target/benchmarks.jar dev.redoubt.bench.EtcdSmoke}.
 */
public final class EtcdSmoke {
    private static final int VALUE_BYTES = 100;
    private static final int KEYS = 100;
    private static final int READERS = 8;
    private static final int SECONDS = 3;

    private EtcdSmoke() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = BenchFiles.freshTempDir("redoubt-etcd-smoke");
        try (EtcdGroup group = EtcdGroup.start(dir)) {
            System.out.println("etcd group up: " + group.endpoints() + " (data and logs in " + dir + ")");
            try (EtcdKvClient preload = EtcdKvClient.connect(group.endpoints())) {
                for (int k = 0; k < KEYS; k++) {
                    preload.put(key(k), value());
                }
            }
            Worker writer = new Worker("writer", group.endpoints(), true);
            List<Worker> readers = new ArrayList<>();
            for (int r = 0; r < READERS; r++) {
                readers.add(new Worker("reader-" + r, group.endpoints(), false));
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            writer.start(end);
            readers.forEach(r -> r.start(end));
            writer.join();
            for (Worker r : readers) {
                r.join();
            }
            System.out.printf(Locale.ROOT, "1 writer, %d-byte values:   %s%n", VALUE_BYTES, Worker.summary(List.of(writer)));
            System.out.printf(Locale.ROOT, "%d readers, linearizable: %s%n", READERS, Worker.summary(readers));
        } finally {
            BenchFiles.deleteRecursively(dir);
        }
    }

    private static byte[] key(int k) {
        return ("k" + k).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value() {
        byte[] v = new byte[VALUE_BYTES];
        ThreadLocalRandom.current().nextBytes(v);
        return v;
    }

    /** One thread with its own client: puts ({@code writes}) or gets of random preloaded keys until the end. */
    private static final class Worker {
        private final String name;
        private final List<String> endpoints;
        private final boolean writes;
        private Thread thread;
        private long[] latencies = new long[1 << 16];
        private int count;
        private long elapsedNanos;
        private Throwable failure;

        Worker(String name, List<String> endpoints, boolean writes) {
            this.name = name;
            this.endpoints = endpoints;
            this.writes = writes;
        }

        void start(long end) {
            thread = new Thread(() -> run(end), name);
            thread.start();
        }

        private void run(long end) {
            try (EtcdKvClient c = EtcdKvClient.connect(endpoints)) {
                c.get(key(0)); // connects before the clock starts
                long start = System.nanoTime();
                while (System.nanoTime() < end) {
                    byte[] key = key(ThreadLocalRandom.current().nextInt(KEYS));
                    long before = System.nanoTime();
                    if (writes) {
                        c.put(key, value());
                    } else if (c.get(key) == null) {
                        throw new IllegalStateException("preloaded key missing: " + new String(key, StandardCharsets.UTF_8));
                    }
                    if (count == latencies.length) {
                        latencies = Arrays.copyOf(latencies, count * 2);
                    }
                    latencies[count++] = System.nanoTime() - before;
                }
                elapsedNanos = System.nanoTime() - start;
            } catch (Throwable e) {
                failure = e;
            }
        }

        void join() throws InterruptedException {
            thread.join();
            if (failure != null) {
                throw new IllegalStateException(name + " failed", failure);
            }
        }

        /** Total ops/s (each worker's count over its own time, summed) and p50/p99 over all their latencies. */
        static String summary(List<Worker> workers) {
            double opsPerSecond = workers.stream().mapToDouble(w -> w.count / (w.elapsedNanos / 1e9)).sum();
            long[] all = workers.stream().flatMapToLong(w -> Arrays.stream(w.latencies, 0, w.count)).sorted().toArray();
            return String.format(Locale.ROOT, "%.0f ops/s, p50 %.2f ms, p99 %.2f ms (%d ops)", opsPerSecond,
                    percentileMillis(all, 0.50), percentileMillis(all, 0.99), all.length);
        }
    }

    private static double percentileMillis(long[] sortedNanos, double q) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(q * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, i)] / 1e6;
    }
}
