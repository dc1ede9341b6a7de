package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Proves the etcd peer runs: an {@link EtcdGroup} in a temporary directory, then at once 1 writer doing
 * closed-loop puts of 100-byte values and 8 readers doing linearizable gets ({@link EtcdKvClient}), for 3 s, a
 * client each ({@link ClosedLoopLoad}); prints ops/s and p50/p99 of each side, stops the group and deletes the
 * directory. A smoke, not the benchmark ({@link RaftHarness} is): the figures only show the order of magnitude.
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
            List<String> endpoints = group.endpoints();
            ClosedLoopLoad.Connect<EtcdKvClient> connect = t -> connected(EtcdKvClient.connect(endpoints));
            Duration measured = Duration.ofSeconds(SECONDS);
            ClosedLoopLoad writer = ClosedLoopLoad.start("writer", 1, Duration.ZERO, measured, connect,
                    (c, t, n) -> c.put(key(ThreadLocalRandom.current().nextInt(KEYS)), value()));
            ClosedLoopLoad readers = ClosedLoopLoad.start("reader", READERS, Duration.ZERO, measured, connect,
                    (c, t, n) -> read(c));
            ClosedLoopLoad.Result writes = writer.await();
            ClosedLoopLoad.Result reads = readers.await();
            System.out.printf(Locale.ROOT, "1 writer, %d-byte values:   %s (%d ops)%n", VALUE_BYTES, writes,
                    writes.operations());
            System.out.printf(Locale.ROOT, "%d readers, linearizable: %s (%d ops)%n", READERS, reads,
                    reads.operations());
        } finally {
            DirectoryTrees.deleteTree(dir);
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

    /** A client that has connected (a first get) before the clock starts. */
    private static EtcdKvClient connected(EtcdKvClient c) throws IOException {
        try {
            c.get(key(0));
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static void read(EtcdKvClient c) throws IOException {
        byte[] key = key(ThreadLocalRandom.current().nextInt(KEYS));
        if (c.get(key) == null) {
            throw new IllegalStateException("preloaded key missing: " + new String(key, StandardCharsets.UTF_8));
        }
    }
}
