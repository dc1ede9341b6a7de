package dev.redoubt.bench;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.WriteOptions;
import dev.redoubt.replication.raft.RaftAdmin;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftKvClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The Raft benchmarks of issue 7, as a harness rather than JMH (each figure needs a live 3-member group, and the
 * election figure kills member processes): members are child JVMs of this class ({@code --member}) on loopback,
 * on the same disk as the single-node baseline, sharing the machine's cores.
 *
 * <ol>
 *   <li>write throughput and latency p50/p99 of a 3-member group (writes through {@link RaftKvClient}, committed
 *       on a majority and applied by the leader; a client per writer) ÷ one {@link Db} writing {@code SYNC} in
 *       this JVM, with {@code --threads} writers, 100-byte values, {@code --seconds} per run, the two alternated twice
 *       (medians);</li>
 *   <li>leader election after the leader is killed ({@code SIGKILL}), {@code --kills} times: the time until a
 *       surviving member reports itself leader, and until the first write is acknowledged again; median, p99
 *       (the largest of fewer than 100) and max. The killed member is restarted and caught up before the next
 *       kill.</li>
 * </ol>
 *
 * Run: {@code bin/bench --raft [--seconds 10] [--threads 8] [--kills 20]}; {@code --smoke}: seconds.
 */
public final class RaftHarness {
    private static final int VALUE_BYTES = 100;

    private int seconds = 10;
    private int threads = 8;
    private int kills = 20;
    private final Path root;

    private RaftHarness(Path root) {
        this.root = root;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--member")) {
            member(args);
            return;
        }
        Path root = Files.createTempDirectory("redoubt-raft-bench");
        RaftHarness h = new RaftHarness(root);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> h.seconds = Integer.parseInt(args[++i]);
                case "--threads" -> h.threads = Integer.parseInt(args[++i]);
                case "--kills" -> h.kills = Integer.parseInt(args[++i]);
                case "--smoke" -> {
                    h.seconds = 1;
                    h.kills = 2;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--seconds N, --threads N, --kills N, --smoke)");
            }
        }
        try {
            h.run();
        } finally {
            deleteTree(root);
        }
    }

    /** Child mode: {@code --member DIR ID PEERS}: one member, default options, until killed. */
    private static void member(String[] args) throws InterruptedException {
        RaftGroupNode.start(Path.of(args[1]), args[2], RaftGroupNode.parsePeers(args[3]), DbOptions.defaults());
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }

    private void run() throws Exception {
        System.out.printf(Locale.ROOT, "Raft harness: %d writers, %d-byte values, %d s per throughput run, %d leader"
                + " kills; %d cores, Java %s%n", threads, VALUE_BYTES, seconds, kills,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        List<Member> members = new ArrayList<>();
        List<RaftGroupNode.Peer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peers.add(new RaftGroupNode.Peer("m" + i, new InetSocketAddress("127.0.0.1", freePort())));
        }
        try {
            for (int i = 0; i < 3; i++) {
                members.add(Member.start(root.resolve("m" + i), "m" + i, peers));
            }
            try (RaftKvClient warm = RaftKvClient.connect(peers)) {
                warm.put(bytes("warm"), bytes("up")); // waits for the first election
            }
            Result[] single = new Result[2];
            Result[] group = new Result[2];
            for (int round = 0; round < 2; round++) {
                single[round] = singleNodeSync(root.resolve("single" + round));
                group[round] = raftGroup(peers);
                System.out.printf(Locale.ROOT, "round %d: single-node SYNC %s | 3-member group %s%n", round + 1,
                        single[round], group[round]);
            }
            double singleOps = median(single[0].opsPerSecond, single[1].opsPerSecond);
            double groupOps = median(group[0].opsPerSecond, group[1].opsPerSecond);
            double singleP99 = median(single[0].p99Millis, single[1].p99Millis);
            double groupP99 = median(group[0].p99Millis, group[1].p99Millis);
            System.out.printf(Locale.ROOT, "throughput: 3-member group %.0f writes/s ÷ single-node SYNC %.0f writes/s"
                    + " = %.4f%n", groupOps, singleOps, groupOps / singleOps);
            System.out.printf(Locale.ROOT, "latency p99: 3-member group %.2f ms ÷ single-node SYNC %.2f ms = %.2f"
                    + " (p50 %.2f ms / %.2f ms)%n", groupP99, singleP99, groupP99 / singleP99,
                    median(group[0].p50Millis, group[1].p50Millis), median(single[0].p50Millis, single[1].p50Millis));
            elections(peers, members);
        } finally {
            for (Member m : members) {
                m.kill();
            }
        }
    }

    /** Throughput and latencies of {@code threads} writers for {@code seconds}, each writing through {@code write}. */
    private Result measure(Writer write) throws InterruptedException {
        long[][] latencies = new long[threads][];
        int[] counts = new int[threads];
        Thread[] workers = new Thread[threads];
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                long[] mine = new long[1 << 16];
                int n = 0;
                byte[] value = new byte[VALUE_BYTES];
                try {
                    while (System.nanoTime() < end) {
                        ThreadLocalRandom.current().nextBytes(value);
                        byte[] key = bytes("k" + id + "-" + n);
                        long before = System.nanoTime();
                        write.put(id, key, value);
                        if (n == mine.length) {
                            mine = Arrays.copyOf(mine, n * 2);
                        }
                        mine[n++] = System.nanoTime() - before;
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
                latencies[id] = mine;
                counts[id] = n;
            }, "writer-" + t);
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        long elapsed = System.nanoTime() - start;
        if (failure[0] != null) {
            throw new IllegalStateException("a writer failed", failure[0]);
        }
        long[] all = new long[Arrays.stream(counts).sum()];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(latencies[t], 0, all, at, counts[t]);
            at += counts[t];
        }
        Arrays.sort(all);
        return new Result(all.length / (elapsed / 1e9), percentileMillis(all, 0.50), percentileMillis(all, 0.99));
    }

    private Result singleNodeSync(Path dir) throws Exception {
        try (Db db = Db.open(dir, DbOptions.defaults())) {
            return measure((t, k, v) -> db.put(k, v, WriteOptions.SYNC));
        } finally {
            deleteTree(dir);
        }
    }

    /** Each writer has its own client (as independent application threads would): one Ratis client serializes. */
    private Result raftGroup(List<RaftGroupNode.Peer> peers) throws Exception {
        RaftKvClient[] clients = new RaftKvClient[threads];
        try {
            for (int t = 0; t < threads; t++) {
                clients[t] = RaftKvClient.connect(peers);
                clients[t].put(bytes("warm-" + t), bytes("v")); // finds the leader before the clock starts
            }
            return measure((t, k, v) -> clients[t].put(k, v));
        } finally {
            for (RaftKvClient c : clients) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    /** Kills the leader {@code kills} times; prints election and first-write times. */
    private void elections(List<RaftGroupNode.Peer> peers, List<Member> members) throws Exception {
        long[] elected = new long[kills];
        long[] firstWrite = new long[kills];
        try (RaftKvClient client = RaftKvClient.connect(peers, 500, 200)) {
            for (int k = 0; k < kills; k++) {
                int leader = awaitLeader(peers, -1, -1);
                long term = term(peers, leader);
                members.get(leader).kill();
                long killed = System.nanoTime();
                int next = awaitLeader(peers, leader, term);
                elected[k] = System.nanoTime() - killed;
                client.put(bytes("after-kill-" + k), bytes("v"));
                firstWrite[k] = System.nanoTime() - killed;
                System.out.printf(Locale.ROOT, "kill %d: m%d killed, m%d leader after %.0f ms, first write after %.0f ms%n",
                        k + 1, leader, next, elected[k] / 1e6, firstWrite[k] / 1e6);
                members.set(leader, Member.start(root.resolve("m" + leader), "m" + leader, peers));
                awaitCaughtUp(peers);
            }
        }
        Arrays.sort(elected);
        Arrays.sort(firstWrite);
        System.out.printf(Locale.ROOT, "leader election after SIGKILL of the leader (%d kills): median %.0f ms, p99 %.0f ms,"
                + " max %.0f ms; first acknowledged write: median %.0f ms, p99 %.0f ms, max %.0f ms%n", kills,
                percentileMillis(elected, 0.5), percentileMillis(elected, 0.99), elected[kills - 1] / 1e6,
                percentileMillis(firstWrite, 0.5), percentileMillis(firstWrite, 0.99), firstWrite[kills - 1] / 1e6);
    }

    /**
     * Polls the members (every 5 ms) until one other than {@code exclude} reports itself leader in a term above
     * {@code aboveTerm}; returns its position. Gives up after a minute.
     */
    private static int awaitLeader(List<RaftGroupNode.Peer> peers, int exclude, long aboveTerm) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
            while (System.nanoTime() < deadline) {
                List<RaftAdmin.Member> status = admin.status();
                for (int i = 0; i < status.size(); i++) {
                    RaftAdmin.Member m = status.get(i);
                    if (i != exclude && "LEADER".equals(m.role()) && m.term() > aboveTerm) {
                        return i;
                    }
                }
                Thread.sleep(5);
            }
        }
        throw new IllegalStateException("no leader elected within a minute");
    }

    private static long term(List<RaftGroupNode.Peer> peers, int member) throws IOException {
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
            return admin.status().get(member).term();
        }
    }

    /** Waits until every member answers and has applied the leader's commit index. */
    private static void awaitCaughtUp(List<RaftGroupNode.Peer> peers) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
            while (System.nanoTime() < deadline) {
                List<RaftAdmin.Member> status = admin.status();
                long commit = status.stream().mapToLong(RaftAdmin.Member::commitIndex).max().orElse(0);
                if (status.stream().allMatch(m -> m.reachable() && m.appliedIndex() >= commit)) {
                    return;
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("a restarted member did not catch up within two minutes");
    }

    private interface Writer {
        void put(int thread, byte[] key, byte[] value) throws Exception;
    }

    private record Result(double opsPerSecond, double p50Millis, double p99Millis) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.0f writes/s, p50 %.2f ms, p99 %.2f ms", opsPerSecond, p50Millis, p99Millis);
        }
    }

    /** A member child JVM. */
    private static final class Member {
        private final Process process;

        private Member(Process process) {
            this.process = process;
        }

        static Member start(Path dir, String id, List<RaftGroupNode.Peer> peers) throws Exception {
            Files.createDirectories(dir);
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElse("java"));
            command.addAll(JvmFlags.POM_FLAGS);
            String spec = peers.stream().map(p -> p.id() + "@127.0.0.1:" + p.address().getPort())
                    .collect(Collectors.joining(","));
            command.addAll(List.of("-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp",
                    System.getProperty("java.class.path"), RaftHarness.class.getName(), "--member", dir.toString(), id, spec));
            Process p = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolveSibling(id + ".stderr").toFile())).start();
            CompletableFuture<Void> ready = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.equals("READY")) {
                            ready.complete(null);
                        }
                    }
                    ready.completeExceptionally(new IOException("member " + id + " exited before it was ready"));
                } catch (IOException e) {
                    ready.completeExceptionally(e);
                }
            }, "member-" + id);
            reader.setDaemon(true);
            reader.start();
            try {
                ready.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly().waitFor();
                throw new IOException("member " + id + " did not start (its stderr: " + dir.resolveSibling(id + ".stderr")
                        + ")", e);
            }
            return new Member(p);
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static double percentileMillis(long[] sortedNanos, double q) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(q * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, i)] / 1e6;
    }

    private static double median(double a, double b) {
        return (a + b) / 2;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
