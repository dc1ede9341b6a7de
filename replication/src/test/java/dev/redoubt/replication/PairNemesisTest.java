package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.redoubt.testsupport.ChildJvm;
import dev.redoubt.testsupport.FreePorts;
import dev.redoubt.testsupport.linearizability.CheckResult;
import dev.redoubt.testsupport.linearizability.History;
import dev.redoubt.testsupport.linearizability.HistoryRecorder;
import dev.redoubt.testsupport.linearizability.LinearizabilityChecker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jepsen-style, for a node pair with automatic failover (docs/pair-failover.md): the two nodes and the witness
 * as processes ({@link PairMemberMain} JVMs; a node's engine on a power-loss file layer, so a SIGKILL loses its
 * unsynced bytes as a power cut would), each behind a proxy at every address it advertises (its failover
 * group port; a node's data port too); concurrent clients ({@link PairClient}) putting unique values at
 * {@code REMOTE_DURABLE} and reading at {@code REMOTE_DURABLE} (answered by a primary only once what it read is
 * on the backup, and only while its lease holds); a nemesis that SIGKILLs and restarts any process (the primary
 * half of the time a node is chosen), isolates a process (everything sent to it black-holed, what it sends still
 * delivered: an asymmetric partition), or cuts only a node's data link (its failover group link stays). Must
 * hold: the history (invoke / ok / fail / timeout, with times) is linearizable per key, so no acknowledged
 * {@code REMOTE_DURABLE} write is lost and no read sees a value another primary has overwritten (a last client
 * reads every key after the run, those reads in the history); no two primaries accept writes at overlapping
 * times (a fourth client writes at {@code LOCAL} to keys of its own; each acknowledgement carries the epoch that
 * accepted it, and no write acknowledged at an older epoch may have begun after one of a newer epoch was
 * acknowledged: all on this machine's one monotonic clock); and the pair makes progress once healed.
 *
 * <p>Not yet here (issue 15, item 2): per-link cuts through network namespaces, clock jumps.
 *
 * <p>{@code -Dredoubt.pair.runs} (default 1, what CI runs) runs of {@code -Dredoubt.pair.seconds} (default 30);
 * replay one with {@code -Dredoubt.seed=<the seed it printed>}. Each process' stderr is kept beside its directory
 * when a run fails.
 */
class PairNemesisTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final int RUNS = Integer.getInteger("redoubt.pair.runs", 1);
    private static final int SECONDS = Integer.getInteger("redoubt.pair.seconds", 30);
    private static final int LEASE_MILLIS = 2_000;
    private static final int CLIENTS = 3;
    private static final String[] KEYS = {"k0", "k1", "k2"};
    private static final String[] IDS = {"a", "b", "w"};
    /** Nodes ship records before their fsync ({@code -Dredoubt.pair.shipBeforeFsync=true}); off by default. */
    private static final boolean SHIP_BEFORE_FSYNC = Boolean.getBoolean(PairMemberMain.SHIP_BEFORE_FSYNC_PROPERTY);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    @Test
    void historiesUnderKillsIsolationsAndDataLinkCutsAreLinearizable() {
        assertTimeoutPreemptively(Duration.ofSeconds((long) RUNS * (SECONDS + 600)), () -> {
            for (int run = 0; run < RUNS; run++) {
                try (Cluster cluster = new Cluster(tmp.resolve("run" + run))) {
                    runOnce(SEED + run, cluster);
                }
            }
        });
    }

    /** The three processes, their real ports and the proxies at their advertised addresses. */
    static final class Cluster implements AutoCloseable {
        final Path dir;
        final Path secret;
        final TcpProxyAccess[] groupProxies = new TcpProxyAccess[3];
        final TcpProxyAccess[] dataProxies = new TcpProxyAccess[2];
        final int[] groupPorts = new int[3];
        final int[] dataPorts = new int[2];
        final Process[] processes = new Process[3];
        final String peers;

        Cluster(Path dir) throws IOException {
            this.dir = dir;
            Files.createDirectories(dir);
            this.secret = dir.resolve("secret");
            Files.writeString(secret, "pair-nemesis-secret-0123456789abcdef\n");
            StringBuilder p = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                groupPorts[i] = FreePorts.loopback();
                groupProxies[i] = TcpProxyAccess.to(new InetSocketAddress("127.0.0.1", groupPorts[i]));
                p.append(i == 0 ? "" : ",").append(IDS[i]).append('@').append(hostPort(groupProxies[i].address()));
            }
            for (int i = 0; i < 2; i++) {
                dataPorts[i] = FreePorts.loopback();
                dataProxies[i] = TcpProxyAccess.to(new InetSocketAddress("127.0.0.1", dataPorts[i]));
            }
            this.peers = p.toString();
        }

        List<InetSocketAddress> nodes() {
            return List.of(dataProxies[0].address(), dataProxies[1].address());
        }

        void start(int i) throws IOException, InterruptedException {
            List<String> args = new ArrayList<>(List.of(i == 2 ? "witness" : "node", dir.resolve(IDS[i]).toString(),
                    IDS[i], peers, Integer.toString(groupPorts[i]), Integer.toString(LEASE_MILLIS)));
            if (i < 2) {
                int other = 1 - i;
                args.addAll(List.of(IDS[other] + "@" + hostPort(dataProxies[other].address()),
                        Integer.toString(dataPorts[i]), secret.toString(), Boolean.toString(i == 0)));
            }
            List<String> command = ChildJvm.javaCommand(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1",
                    "-D" + PairMemberMain.SHIP_BEFORE_FSYNC_PROPERTY + "=" + SHIP_BEFORE_FSYNC,
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dorg.slf4j.simpleLogger.log.dev.redoubt=info",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true",
                    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS"), PairMemberMain.class.getName(), args);
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(
                    dir.resolve(IDS[i] + ".stderr").toFile()));
            processes[i] = ChildJvm.start(builder, line -> line.equals("READY") ? line : null, line -> { },
                    Duration.ofSeconds(60), IDS[i]).process();
        }

        void kill(int i) throws InterruptedException {
            processes[i].destroyForcibly();
            processes[i].waitFor(30, TimeUnit.SECONDS);
        }

        void isolate(int i) {
            groupProxies[i].blackhole();
            if (i < 2) {
                dataProxies[i].blackhole();
            }
        }

        void heal() {
            for (TcpProxyAccess p : groupProxies) {
                p.pass();
            }
            for (TcpProxyAccess p : dataProxies) {
                p.pass();
            }
        }

        /** The node whose status says primary, or -1. */
        int primary() {
            for (int i = 0; i < 2; i++) {
                try (NodeClient c = NodeClient.connect(dataProxies[i].address(), PeerSecret.fromFile(secret), 1_000)) {
                    if (c.role() == Node.Role.PRIMARY) {
                        return i;
                    }
                } catch (IOException | RuntimeException e) {
                    // not reachable now
                }
            }
            return -1;
        }

        @Override
        public void close() throws IOException, InterruptedException {
            for (int i = 0; i < 3; i++) {
                if (processes[i] != null) {
                    kill(i);
                }
            }
            for (TcpProxyAccess p : groupProxies) {
                p.close();
            }
            for (TcpProxyAccess p : dataProxies) {
                p.close();
            }
        }
    }

    private void runOnce(long seed, Cluster cluster) throws Exception {
        System.out.printf("PairNemesisTest run with seed %d (replay: -Dredoubt.seed=%d -Dredoubt.pair.runs=1%s);"
                + " directories and stderr in %s (kept if the run fails)%n", seed, seed,
                SHIP_BEFORE_FSYNC ? " -D" + PairMemberMain.SHIP_BEFORE_FSYNC_PROPERTY + "=true" : "", cluster.dir);
        Random random = new Random(seed);
        for (int i = 0; i < 3; i++) {
            cluster.start(i);
        }
        PeerSecret secret = PeerSecret.fromFile(cluster.secret);
        HistoryRecorder recorder = new HistoryRecorder();
        java.util.Map<Integer, String> servedBy = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong okWrites = new AtomicLong();
        List<String> nemesisLog = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        List<long[]> localAcks = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            Thread local = new Thread(() -> localWriter(cluster.nodes(), secret, stop, localAcks), "local-writer");
            local.start();
            clients.add(local);
            for (int c = 0; c < CLIENTS; c++) {
                int process = c;
                long clientSeed = seed * 31 + c;
                Thread t = new Thread(() -> client(process, clientSeed, cluster.nodes(), secret, recorder, stop,
                        okWrites, servedBy), "client-" + c);
                t.start();
                clients.add(t);
            }
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(SECONDS);
            while (System.nanoTime() < end) {
                Thread.sleep(500 + random.nextInt(1500));
                String at = String.format("%.1fs ", (System.nanoTime() - start) / 1e9);
                switch (random.nextInt(4)) {
                    case 0 -> {
                        int primary = cluster.primary();
                        int victim = random.nextBoolean() && primary >= 0 ? primary : random.nextInt(2);
                        nemesisLog.add(at + "kill -9 " + IDS[victim] + (victim == primary ? " (primary)" : ""));
                        cluster.kill(victim);
                        Thread.sleep(300 + random.nextInt(3000));
                        cluster.start(victim);
                        nemesisLog.add("restart " + IDS[victim]);
                    }
                    case 1 -> {
                        nemesisLog.add(at + "kill -9 w");
                        cluster.kill(2);
                        Thread.sleep(300 + random.nextInt(3000));
                        cluster.start(2);
                        nemesisLog.add("restart w");
                    }
                    case 2 -> {
                        int victim = random.nextInt(3);
                        nemesisLog.add(at + "isolate " + IDS[victim]);
                        cluster.isolate(victim);
                        Thread.sleep(500 + random.nextInt(3500));
                        cluster.heal();
                        nemesisLog.add("heal");
                    }
                    default -> {
                        int victim = random.nextInt(2);
                        nemesisLog.add(at + "cut " + IDS[victim] + "'s data link");
                        cluster.dataProxies[victim].blackhole();
                        Thread.sleep(500 + random.nextInt(3500));
                        cluster.heal();
                        nemesisLog.add("heal");
                    }
                }
            }
            cluster.heal();
            long before = okWrites.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (okWrites.get() < before + 10 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            stop.set(true);
            for (Thread t : clients) {
                t.join(120_000);
            }
            assertThat(okWrites.get()).as("seed %d: the healed pair made progress (%s)", seed, nemesisLog)
                    .isGreaterThanOrEqualTo(before + 10);
            finalReads(seed, cluster.nodes(), secret, recorder, nemesisLog);
            String overlap = olderEpochAcceptedLater(localAcks);
            assertThat(overlap).as("seed %d, nemesis %s: two primaries accepted writes at overlapping times", seed,
                    nemesisLog).isNull();
            History history = recorder.history();
            CheckResult result = new LinearizabilityChecker().check(history);
            if (!result.isLinearizable()) {
                dumpHistory(cluster, history, servedBy);
            }
            assertThat(result.isLinearizable()).as("seed %d, nemesis %s:%n%s", seed, nemesisLog, result.report()).isTrue();
            System.out.printf("PairNemesisTest seed %d: %d operations, %d acknowledged REMOTE_DURABLE writes, %d"
                    + " acknowledged LOCAL writes in %d epochs, rejoins that cut a divergent tail %d, that moved a database"
                    + " aside %d, nemesis: %s%n", seed, history.size(), okWrites.get(), localAcks.size(),
                    localAcks.stream().mapToLong(a -> a[0]).distinct().count(), countInLogs(cluster, "(truncated"),
                    countInLogs(cluster, "(moved-aside"), nemesisLog);
        } finally {
            stop.set(true);
            for (Thread t : clients) {
                t.join(120_000);
            }
        }
    }

    /** After the run, a fresh client reads every key at REMOTE_DURABLE (for up to 3 minutes); the reads join the history. */
    private static void finalReads(long seed, List<InetSocketAddress> nodes, PeerSecret secret,
                                   HistoryRecorder recorder, List<String> nemesisLog) throws IOException {
        long start = System.nanoTime();
        try (PairClient last = PairClient.connect(nodes, secret, PairClient.Options.defaults())) {
            for (String key : KEYS) {
                while (true) {
                    int op = recorder.invokeGet(CLIENTS, key);
                    try {
                        byte[] v = last.get(bytes(key), CommitLevel.REMOTE_DURABLE);
                        recorder.okRead(op, v == null ? null : new String(v, StandardCharsets.UTF_8));
                        break;
                    } catch (IOException | RuntimeException e) {
                        recorder.fail(op);
                        assertThat(System.nanoTime() - start).as("seed %d: the healed pair answers reads (%s): %s",
                                seed, nemesisLog, e).isLessThan(TimeUnit.MINUTES.toNanos(3));
                    }
                }
            }
        }
    }

    /**
     * One client: unique values at REMOTE_DURABLE and reads at REMOTE_DURABLE; a write that gives up, or whose
     * outcome is unknown, is a timeout (it may or may not have taken effect).
     */
    private static void client(int process, long seed, List<InetSocketAddress> nodes, PeerSecret secret,
                               HistoryRecorder recorder, AtomicBoolean stop, AtomicLong okWrites,
                               java.util.Map<Integer, String> servedBy) {
        // A write retried after its connection broke could take effect twice, around another client's write to the
        // same key (PairClient's documented caveat): the clients here leave such a write's outcome unknown.
        PairClient.Options options = new PairClient.Options(Duration.ofSeconds(4), Duration.ofSeconds(2),
                Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(1)).withoutRetryingUnknownWrites();
        try (PairClient client = PairClient.connect(nodes, secret, options)) {
            NemesisClientLoop.Store store = NemesisClientLoop.Store.ofBytes(
                    (k, v) -> client.put(k, v, CommitLevel.REMOTE_DURABLE), k -> client.get(k, CommitLevel.REMOTE_DURABLE));
            NemesisClientLoop.run(process, seed, KEYS, store, recorder, stop, (op, write) -> {
                servedBy.put(op, String.valueOf(client.primary()));
                if (write) {
                    okWrites.incrementAndGet();
                }
            });
        }
    }

    /** Writes at LOCAL to keys of its own until stopped; records {epoch, start, end} of every acknowledged write. */
    private static void localWriter(List<InetSocketAddress> nodes, PeerSecret secret, AtomicBoolean stop,
                                    List<long[]> acks) {
        PairClient.Options options = new PairClient.Options(Duration.ofSeconds(4), Duration.ofSeconds(2),
                Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(1)).withoutRetryingUnknownWrites();
        try (PairClient client = PairClient.connect(nodes, secret, options)) {
            for (long i = 0; !stop.get(); i++) {
                long start = System.nanoTime();
                try {
                    WriteReceipt r = client.put(bytes("l" + (i % 3)), bytes("local-" + i), CommitLevel.LOCAL);
                    acks.add(new long[] {r.epoch(), start, System.nanoTime()});
                } catch (IOException | RuntimeException e) {
                    // refused, timed out or unknown: not an acceptance this check can place
                }
            }
        }
    }

    /**
     * The acceptance check: a write acknowledged at epoch e was accepted at some instant of its call
     * [start, end]; if one acknowledged at an older epoch began after one of a newer epoch had ended, the older
     * primary still accepted writes after the newer one had: a description of the first such pair, else null.
     */
    static String olderEpochAcceptedLater(List<long[]> acks) {
        java.util.TreeMap<Long, long[]> byEpoch = new java.util.TreeMap<>(); // epoch -> {latest start, earliest end}
        synchronized (acks) {
            for (long[] a : acks) {
                long[] e = byEpoch.computeIfAbsent(a[0], k -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
                e[0] = Math.max(e[0], a[1]);
                e[1] = Math.min(e[1], a[2]);
            }
        }
        long earliestNewerEnd = Long.MAX_VALUE;
        long newerEpoch = -1;
        for (var e : byEpoch.descendingMap().entrySet()) {
            if (e.getValue()[0] > earliestNewerEnd) {
                return "a write acknowledged at epoch " + e.getKey() + " began " + (e.getValue()[0] - earliestNewerEnd)
                        + " ns after one acknowledged at epoch " + newerEpoch + " had ended";
            }
            if (e.getValue()[1] < earliestNewerEnd) {
                earliestNewerEnd = e.getValue()[1];
                newerEpoch = e.getKey();
            }
        }
        return null;
    }

    /** How many lines of the nodes' logs contain {@code text} (the agents log each rejoin with its action). */
    private static long countInLogs(Cluster cluster, String text) throws IOException {
        long n = 0;
        for (int i = 0; i < 2; i++) {
            Path log = cluster.dir.resolve(IDS[i] + ".stderr");
            if (Files.exists(log)) {
                try (var lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
                    n += lines.filter(l -> l.contains(text)).count();
                }
            }
        }
        return n;
    }

    /** On a violation: every operation, with the node that answered it, in {@code history.txt} of the run. */
    private static void dumpHistory(Cluster cluster, History history, java.util.Map<Integer, String> servedBy)
            throws IOException {
        StringBuilder sb = new StringBuilder("node a at " + cluster.dataProxies[0].address() + ", b at "
                + cluster.dataProxies[1].address() + "; origin " + history.originNanos() + "\n");
        for (var op : history.operations()) {
            sb.append(op).append(" served by ").append(servedBy.get(op.id())).append('\n');
        }
        Files.writeString(cluster.dir.resolve("history.txt"), sb);
        System.out.println("PairNemesisTest: the history is in " + cluster.dir.resolve("history.txt"));
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
