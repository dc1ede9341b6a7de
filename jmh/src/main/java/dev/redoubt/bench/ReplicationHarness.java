package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.replication.CommitLevel;
import dev.redoubt.replication.Node;
import dev.redoubt.replication.NodeConfig;
import dev.redoubt.replication.PeerSecret;
import dev.redoubt.replication.Rejoin;
import dev.redoubt.replication.failover.FailoverGroupMember;
import dev.redoubt.replication.failover.FailoverSettings;
import dev.redoubt.replication.failover.LeaseClock;
import dev.redoubt.replication.failover.PrimaryRecord;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The node-pair benchmarks of issue 6, as a harness rather than JMH (each figure needs two live nodes and a
 * stream between them, which JMH's fork-per-benchmark model does not give): a primary and a backup in this JVM
 * on loopback, on the same disk.
 *
 * <ol>
 *   <li>write throughput at {@code REMOTE_DURABLE} ÷ {@code LOCAL} ({@code --threads} writers, 100-byte values,
 *       {@code --seconds} each, alternated twice, medians); for an operator-failover pair (the primary ships only
 *       durable records: two fsyncs in series) and for a pair with automatic failover (a witness in this JVM; the
 *       primary ships records before its fsync completes, so the two overlap);</li>
 *   <li>replication lag p50/p99 at half the {@code LOCAL} maximum: time from a write's local acknowledgement to
 *       the backup having applied it;</li>
 *   <li>catch-up: a stopped backup rejoins {@code --catchup-mb} MiB behind; its MB/s ÷ the local sequential read
 *       bandwidth of the same WAL files, from the disk (after dropping the page cache, which needs root) and
 *       from the page cache;</li>
 *   <li>time from {@code promote} to the first accepted write, median and max over {@code --promotions}.</li>
 * </ol>
 *
 * Run: {@code bin/bench --replication [--seconds 10] [--threads 8] [--catchup-mb 256] [--promotions 20]
 * [--throughput-only]}.
 */
public final class ReplicationHarness {
    private static final PeerSecret SECRET = PeerSecret.of("replication-harness-secret".getBytes(StandardCharsets.UTF_8));
    private static final int SEGMENT_BYTES = 16 * 1024 * 1024;

    private int seconds = 10;
    private int threads = 8;
    private int catchupMb = 256;
    private int promotions = 20;
    private boolean throughputOnly;
    private final Path root;

    private ReplicationHarness(Path root) {
        this.root = root;
    }

    public static void main(String[] args) throws Exception {
        Path root = Files.createTempDirectory("redoubt-replication-bench");
        ReplicationHarness h = new ReplicationHarness(root);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> h.seconds = Integer.parseInt(args[++i]);
                case "--threads" -> h.threads = Integer.parseInt(args[++i]);
                case "--catchup-mb" -> h.catchupMb = Integer.parseInt(args[++i]);
                case "--promotions" -> h.promotions = Integer.parseInt(args[++i]);
                case "--throughput-only" -> h.throughputOnly = true;
                case "--smoke" -> {
                    h.seconds = 1;
                    h.catchupMb = 16;
                    h.promotions = 3;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--seconds N, --threads N, --catchup-mb N, --promotions N, --throughput-only, --smoke)");
            }
        }
        try {
            h.run();
        } finally {
            DirectoryTrees.deleteTree(root);
        }
    }

    private Node start(String name, Node.Role role, Node primary) {
        return Node.start(NodeConfig.of(root.resolve(name), role, new InetSocketAddress("127.0.0.1", 0),
                        primary == null ? null : primary.listenAddress(), SECRET)
                .withDbOptions(DbOptions.defaults().walSegmentBytes(SEGMENT_BYTES))
                .withMaxRetainedWalBytes(4L << 30).withRemoteTimeoutMillis(10_000));
    }

    private void run() throws Exception {
        System.out.printf(Locale.ROOT, "Replication harness: %d writers, %d s per throughput run, %d MiB catch-up, %d"
                + " promotions; %d cores, Java %s%n", threads, seconds, catchupMb, promotions,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        throughputAutoFailover();
        Node primary = start("p", Node.Role.PRIMARY, null);
        Node backup = start("b", Node.Role.BACKUP, primary);
        double localOps = throughputRatio("operator failover (durable records shipped: two fsyncs in series)", primary);
        if (throughputOnly) {
            backup.close();
            primary.close();
            return;
        }

        long[] lag = lag(primary, backup, localOps / 2, seconds);
        System.out.printf(Locale.ROOT, "lag at %.0f writes/s (half the LOCAL maximum): p50 %.2f ms, p99 %.2f ms, max"
                + " %.2f ms over %d writes%n", localOps / 2, lag[0] / 1e6, lag[1] / 1e6, lag[2] / 1e6, lag[3]);

        double[] catchup = catchUp(primary, backup);
        System.out.printf(Locale.ROOT, "catch-up: %.1f MB/s; local sequential read of the same WAL: %.1f MB/s from the"
                + " disk (page cache dropped; NaN if not allowed), %.1f MB/s from the page cache; ratio %.2f to the"
                + " disk read (target >= 0.5), %.3f to the cached read%n", catchup[0], catchup[2], catchup[1],
                catchup[0] / catchup[2], catchup[0] / catchup[1]);
        backup = reopenBackup(backup, primary);

        long[] promote = promotions(primary, backup);
        System.out.printf(Locale.ROOT, "promote to first accepted write: median %.1f ms, max %.1f ms over %d promotions"
                + " (target < 1 s)%n", promote[0] / 1e6, promote[1] / 1e6, promotions);
    }

    /** LOCAL and REMOTE_DURABLE alternated twice on {@code primary}; prints the medians and their ratio, returns LOCAL's. */
    private double throughputRatio(String pair, Node primary) throws InterruptedException {
        throughput(primary, CommitLevel.REMOTE_DURABLE, 2); // warm-up
        double[] local = new double[2];
        double[] remote = new double[2];
        for (int round = 0; round < 2; round++) {
            local[round] = throughput(primary, CommitLevel.LOCAL, seconds);
            remote[round] = throughput(primary, CommitLevel.REMOTE_DURABLE, seconds);
        }
        double localOps = median(local);
        double remoteOps = median(remote);
        System.out.printf(Locale.ROOT, "throughput, %s: LOCAL %.0f writes/s, REMOTE_DURABLE %.0f writes/s (runs %s /"
                + " %s); ratio %.2f (target >= 0.85)%n", pair, localOps, remoteOps, Arrays.toString(local),
                Arrays.toString(remote), remoteOps / localOps);
        return localOps;
    }

    /** The same on a pair with automatic failover: a witness and two nodes in this JVM, then closed. */
    private void throughputAutoFailover() throws Exception {
        List<RaftGroupNode.Peer> group = new ArrayList<>();
        for (String id : List.of("fa", "fb", "fw")) {
            group.add(new RaftGroupNode.Peer(id, new InetSocketAddress("127.0.0.1", RedoubtGroup.freePort())));
        }
        InetSocketAddress dataA = new InetSocketAddress("127.0.0.1", RedoubtGroup.freePort());
        InetSocketAddress dataB = new InetSocketAddress("127.0.0.1", RedoubtGroup.freePort());
        LeaseClock lease = LeaseClock.of(PrimaryRecord.DEFAULT_LEASE_MILLIS);
        try (FailoverGroupMember witness = FailoverGroupMember.start(new FailoverSettings("fw", group, null,
                root.resolve("fw"), lease, false), null);
             Node a = Node.start(autoFailover("fa", dataA, new RaftGroupNode.Peer("fb", dataB), group, lease, true));
             Node b = Node.start(autoFailover("fb", dataB, new RaftGroupNode.Peer("fa", dataA), group, lease, false))) {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!(a.role() == Node.Role.PRIMARY && b.status().primary() != null && b.status().primary().connected())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the auto-failover pair did not form in 60 s: " + a.status().toJson());
                }
                Thread.sleep(50);
            }
            throughputRatio("automatic failover (records shipped before the primary's fsync)", a);
        }
    }

    private NodeConfig autoFailover(String id, InetSocketAddress listen, RaftGroupNode.Peer partner,
                                    List<RaftGroupNode.Peer> group, LeaseClock lease, boolean claimEmpty) {
        return NodeConfig.withAutoFailover(root.resolve(id), listen, SECRET, new FailoverSettings(id, group, partner,
                        root.resolve(id + ".failover"), lease, claimEmpty).withShipBeforeFsync(true))
                .withDbOptions(DbOptions.defaults().walSegmentBytes(SEGMENT_BYTES))
                .withMaxRetainedWalBytes(4L << 30).withRemoteTimeoutMillis(10_000);
    }

    /** Writes from {@code threads} threads for {@code secs}; returns writes per second. */
    private double throughput(Node primary, CommitLevel level, int secs) throws InterruptedException {
        LongAdder done = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        byte[] value = new byte[100];
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (!stop.get()) {
                    primary.write(new WriteBatch().put(Keys.sequential(r.nextLong(1_000_000), Keys.newKey()), value), level);
                    done.increment();
                }
            });
            w.start();
            writers.add(w);
        }
        long start = System.nanoTime();
        Thread.sleep(secs * 1000L);
        stop.set(true);
        for (Thread w : writers) {
            w.join();
        }
        return done.sum() / ((System.nanoTime() - start) / 1e9);
    }

    /** Writes at {@code rate} per second; returns {p50, p99, max, count} of acknowledgement-to-applied-on-backup. */
    private long[] lag(Node primary, Node backup, double rate, int secs) throws InterruptedException {
        ConcurrentLinkedQueue<long[]> pending = new ConcurrentLinkedQueue<>();
        List<Long> samples = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread poller = new Thread(() -> {
            while (!stop.get() || !pending.isEmpty()) {
                long applied = backup.db().replication().writtenLsn();
                long now = System.nanoTime();
                long[] head;
                while ((head = pending.peek()) != null && head[0] < applied) {
                    pending.poll();
                    samples.add(now - head[1]);
                }
                LockSupport.parkNanos(100_000);
            }
        });
        poller.start();
        List<Thread> writers = new ArrayList<>();
        long intervalNanos = (long) (threads * 1e9 / rate);
        byte[] value = new byte[100];
        Object order = new Object();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                long next = System.nanoTime();
                while (!stop.get()) {
                    synchronized (order) { // LSN order in the queue
                        long lsn = primary.write(new WriteBatch().put(Keys.sequential(r.nextLong(1_000_000), Keys.newKey()), value),
                                CommitLevel.LOCAL).lsn();
                        pending.add(new long[] {lsn, System.nanoTime()});
                    }
                    next += intervalNanos;
                    LockSupport.parkNanos(next - System.nanoTime());
                }
            });
            w.start();
            writers.add(w);
        }
        Thread.sleep(secs * 1000L);
        stop.set(true);
        for (Thread w : writers) {
            w.join();
        }
        poller.join(30_000);
        long[] sorted = samples.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            return new long[] {0, 0, 0, 0};
        }
        return new long[] {sorted[sorted.length / 2], sorted[(int) (sorted.length * 0.99)], sorted[sorted.length - 1],
                sorted.length};
    }

    /** Returns {catch-up MB/s, sequential read MB/s from the page cache, from the disk (NaN if unmeasurable)}. */
    private double[] catchUp(Node primary, Node backup) throws Exception {
        long from = primary.db().replication().writtenLsn();
        backup.close();
        byte[] value = new byte[4096];
        long target = from + catchupMb * 1024L * 1024;
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (primary.db().replication().writtenLsn() < target) {
                    primary.write(new WriteBatch().put(Keys.sequential(r.nextLong(1_000_000), Keys.newKey()), value), CommitLevel.LOCAL);
                }
            });
            w.start();
            writers.add(w);
        }
        for (Thread w : writers) {
            w.join();
        }
        long end = primary.db().replication().writtenLsn();
        long start = System.nanoTime();
        Node again = start("b", Node.Role.BACKUP, primary);
        while (again.db().replication().writtenLsn() < end) {
            Thread.sleep(1);
        }
        double catchupSeconds = (System.nanoTime() - start) / 1e9;
        again.close();
        double catchupMbs = (end - from) / 1e6 / catchupSeconds;
        Path wal = root.resolve("p").resolve("wal");
        double warm = sequentialReadMbs(wal);
        double cold = dropPageCache() ? sequentialReadMbs(wal) : Double.NaN;
        return new double[] {catchupMbs, warm, cold};
    }

    /** Empties the OS page cache (root only), so the next read comes from the disk; false if not allowed. */
    private static boolean dropPageCache() {
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor();
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
            return true;
        } catch (IOException | InterruptedException | RuntimeException e) {
            return false;
        }
    }

    private Node reopenBackup(Node closed, Node primary) {
        return start("b", Node.Role.BACKUP, primary);
    }

    /** Reads every WAL segment once with 1 MiB reads (warm page cache, as the sender's reads are). */
    private static double sequentialReadMbs(Path walDir) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        long bytes = 0;
        long start = System.nanoTime();
        List<Path> segments;
        try (Stream<Path> s = Files.list(walDir)) {
            segments = s.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
        }
        for (Path p : segments) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                int n;
                while ((n = ch.read(buffer.clear())) > 0) {
                    bytes += n;
                }
            }
        }
        return bytes / 1e6 / ((System.nanoTime() - start) / 1e9);
    }

    /** Returns {median, max} nanoseconds from promote() to the first accepted write. */
    private long[] promotions(Node primary, Node backup) throws Exception {
        long[] times = new long[promotions];
        byte[] value = new byte[100];
        for (int i = 0; i < promotions; i++) {
            primary.write(new WriteBatch().put(Keys.sequential(i, Keys.newKey()), value), CommitLevel.REMOTE_DURABLE);
            long start = System.nanoTime();
            backup.promote();
            backup.write(new WriteBatch().put(Keys.sequential(i + 1_000_000, Keys.newKey()), value), CommitLevel.LOCAL);
            times[i] = System.nanoTime() - start;
            Path oldDir = root.resolve(i % 2 == 0 ? "p" : "b");
            primary.close();
            Rejoin.run(oldDir, backup.listenAddress(), SECRET);
            Node rejoined = start(i % 2 == 0 ? "p" : "b", Node.Role.BACKUP, backup);
            primary = backup;
            backup = rejoined;
        }
        primary.close();
        backup.close();
        Arrays.sort(times);
        return new long[] {times[times.length / 2], times[times.length - 1]};
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
