package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.redoubt.replication.NemesisClientLoop;
import dev.redoubt.replication.TcpProxyAccess;
import dev.redoubt.testsupport.FreePorts;
import dev.redoubt.testsupport.linearizability.CheckResult;
import dev.redoubt.testsupport.linearizability.History;
import dev.redoubt.testsupport.linearizability.HistoryRecorder;
import dev.redoubt.testsupport.linearizability.LinearizabilityChecker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
 * Jepsen-style: three member processes ({@link RaftMemberMain} JVMs), concurrent clients putting unique values to
 * a small key set and reading it, and a nemesis that SIGKILLs and restarts members (the leader half of the time),
 * cuts and heals the network, and transfers leadership. Must hold: the recorded history (invoke / ok / fail /
 * timeout, with times) is linearizable per key; every acknowledged write is readable at the end (a last client
 * reads every key, and those reads are in the history, so a lost write is a linearizability violation); and the
 * group makes progress whenever a majority is connected (the nemesis disturbs one thing at a time, so the
 * longest stretch without an acknowledged write is bounded, and writes go through again after the heal); and no
 * member is stopped by Ratis on its own (a state machine that failed: such a member exits, see
 * {@link RaftMemberMain}, and would be down until the nemesis happens to restart it).
 *
 * <p>Two ways to reach into the network, one test each:
 * <ul>
 *   <li>Per link ({@link NetnsLab}, needs Linux, root and {@code ip netns}): each member in its own network
 *   namespace on a bridge, authenticated with the group credential (its address is not loopback); clients in
 *   the root namespace. The nemesis cuts single links (a bridge partition: one member keeps both links, with
 *   the leader or a follower as the bridge), one direction of a link, or all of one member's links including
 *   the clients'.</li>
 *   <li>Per member ({@code TcpProxy}): members on loopback, each behind a proxy at its advertised address; one
 *   address per member means one proxy per member, not per link, so "isolate" black-holes what reaches the
 *   member while connections it opens itself still work (an asymmetric partition).</li>
 * </ul>
 * {@code -Dredoubt.raft.network=auto} (default) runs the per-link test where it can and the proxy test
 * otherwise (the other one is skipped, saying why); {@code netns} or {@code proxy} picks one.
 *
 * <p>{@code -Dredoubt.raft.runs} (default 2, what CI runs) runs of {@code -Dredoubt.raft.seconds} (default 30); replay a run
 * with {@code -Dredoubt.seed=<the seed it printed>} in the same mode. Each member's stderr is kept beside its
 * directory. {@code -Dredoubt.raft.reads=leader-lease} runs the members with leader-lease reads
 * ({@link RaftReadMode#LEADER_LEASE}) instead of ReadIndex.
 */
class RaftNemesisTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final int RUNS = Integer.getInteger("redoubt.raft.runs", 2);
    private static final int SECONDS = Integer.getInteger("redoubt.raft.seconds", 30);
    private static final String NETWORK = System.getProperty("redoubt.raft.network", "auto");
    /** Longest time the group may go without acknowledging a write while at most one member is disturbed. */
    private static final long MAX_STALL_MILLIS = Long.getLong("redoubt.raft.maxStallMillis", 45_000);
    private static final int CLIENTS = 3;
    private static final String[] KEYS = {"a", "b", "c"};
    /** The members' gRPC port in the per-link mode (each member has its own address, in its own namespace). */
    private static final int NETNS_PORT = 7_000;

    /** Kept when a run fails: each member's directory and stderr (`n<i>.stderr`) are what explain it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    /** Bounded: each run gets its nemesis time plus 10 minutes (start, heal, final reads, checking). */
    @Test
    void historiesUnderKillsLinkCutsAndLeaderTransfersAreLinearizable() {
        assumeTrue(!NETWORK.equals("proxy"), "per-link mode not chosen (-Dredoubt.raft.network=proxy)");
        String why = NetnsLab.unavailableReason();
        assumeTrue(why == null, () -> "per-link mode (network namespaces) skipped: " + why
                + "; the proxy mode runs instead");
        runAll("per-link", NetnsNetwork::create);
    }

    @Test
    void historiesUnderKillsIsolationsAndLeaderTransfersAreLinearizable() {
        assumeTrue(!NETWORK.equals("netns"), "proxy mode not chosen (-Dredoubt.raft.network=netns)");
        assumeTrue(NETWORK.equals("proxy") || NetnsLab.unavailableReason() != null,
                "proxy mode skipped: the per-link mode runs here (root and ip netns work);"
                        + " -Dredoubt.raft.network=proxy runs this one");
        runAll("proxy", ProxyNetwork::create);
    }

    private void runAll(String mode, NetworkFactory factory) {
        assertTimeoutPreemptively(Duration.ofSeconds((long) RUNS * (SECONDS + 600)), () -> {
            for (int run = 0; run < RUNS; run++) {
                try (Network network = factory.create()) {
                    runOnce(mode, SEED + run, tmp.resolve("run" + run), network);
                }
            }
        });
        System.out.printf("RaftNemesisTest (%s): %d restarts found the engine behind the Raft commit index (its"
                + " unsynced tail lost with the process); Ratis replayed %d entries%n", mode,
                RaftMemberProcess.RESTARTS_WITH_ENGINE_BEHIND.get(), RaftMemberProcess.ENTRIES_REPLAYED.get());
    }

    /** Where the members run, and how the nemesis cuts their network. */
    interface Network extends AutoCloseable {
        List<RaftGroupNode.Peer> peers();

        /** The group credential members and clients use; null on loopback. */
        RaftTls tls();

        RaftMemberProcess start(Path dir, int member) throws IOException, InterruptedException;

        /**
         * Applies one network disturbance that leaves a majority connected, {@code leader} being the leader's
         * position as far as known; returns what it did, for the log.
         */
        String disturb(Random random, int leader) throws IOException, InterruptedException;

        /** Undoes every disturbance. */
        void heal() throws IOException, InterruptedException;

        @Override
        void close() throws IOException;
    }

    interface NetworkFactory {
        Network create() throws IOException, InterruptedException;
    }

    /** Members on loopback, each behind one proxy at its advertised address. */
    static final class ProxyNetwork implements Network {
        private final int[] realPorts = new int[3];
        private final List<TcpProxyAccess> proxies = new ArrayList<>();
        private final List<RaftGroupNode.Peer> peers = new ArrayList<>();

        static ProxyNetwork create() throws IOException {
            ProxyNetwork n = new ProxyNetwork();
            try {
                for (int i = 0; i < 3; i++) {
                    n.realPorts[i] = FreePorts.loopback();
                    TcpProxyAccess proxy = TcpProxyAccess.to(new InetSocketAddress("127.0.0.1", n.realPorts[i]));
                    n.proxies.add(proxy);
                    n.peers.add(new RaftGroupNode.Peer("n" + i, proxy.address()));
                }
                return n;
            } catch (IOException | RuntimeException e) {
                n.close();
                throw e;
            }
        }

        @Override
        public List<RaftGroupNode.Peer> peers() {
            return peers;
        }

        @Override
        public RaftTls tls() {
            return null;
        }

        @Override
        public RaftMemberProcess start(Path dir, int member) throws IOException, InterruptedException {
            return RaftMemberProcess.start(dir, "n" + member, peers, realPorts[member]);
        }

        @Override
        public String disturb(Random random, int leader) {
            int victim = random.nextInt(3);
            proxies.get(victim).blackhole();
            return "isolate n" + victim;
        }

        @Override
        public void heal() {
            for (TcpProxyAccess p : proxies) {
                p.pass();
            }
        }

        @Override
        public void close() throws IOException {
        }
    }

    /** Each member in its own network namespace ({@link NetnsLab}): links cut one at a time. */
    static final class NetnsNetwork implements Network {
        private final NetnsLab lab;
        private final List<RaftGroupNode.Peer> peers = new ArrayList<>();
        private final Path tlsDir = TestCredentials.groupDir();
        private final RaftTls tls = RaftTls.load(tlsDir);

        private NetnsNetwork(NetnsLab lab) {
            this.lab = lab;
            for (int i = 0; i < 3; i++) {
                peers.add(new RaftGroupNode.Peer("n" + i, new InetSocketAddress(lab.address(i), NETNS_PORT)));
            }
        }

        static NetnsNetwork create() throws IOException, InterruptedException {
            NetnsLab lab = NetnsLab.create(3);
            try {
                return new NetnsNetwork(lab);
            } catch (RuntimeException e) {
                lab.close();
                throw e;
            }
        }

        @Override
        public List<RaftGroupNode.Peer> peers() {
            return peers;
        }

        @Override
        public RaftTls tls() {
            return tls;
        }

        @Override
        public RaftMemberProcess start(Path dir, int member) throws IOException, InterruptedException {
            return RaftMemberProcess.start(dir, "n" + member, peers, NETNS_PORT, lab.execPrefix(member), tlsDir);
        }

        @Override
        public String disturb(Random random, int leader) throws IOException, InterruptedException {
            int a = (leader + 1) % 3;
            int b = (leader + 2) % 3;
            switch (random.nextInt(4)) {
                case 0 -> {
                    int follower = random.nextBoolean() ? a : b;
                    lab.cut(leader, follower);
                    return "cut n" + leader + "<->n" + follower + " (leader's link; bridge n"
                            + (3 - leader - follower) + ")";
                }
                case 1 -> {
                    lab.cut(a, b);
                    return "cut n" + a + "<->n" + b + " (followers' link; leader n" + leader + " is the bridge)";
                }
                case 2 -> {
                    int from = random.nextInt(3);
                    int to = (from + 1 + random.nextInt(2)) % 3;
                    lab.cutOneWay(from, to);
                    return "cut n" + from + "->n" + to + " one way";
                }
                default -> {
                    int victim = random.nextInt(3);
                    lab.cut(victim, (victim + 1) % 3);
                    lab.cut(victim, (victim + 2) % 3);
                    lab.cutFromHost(victim);
                    return "isolate n" + victim + " (both links and the clients')";
                }
            }
        }

        @Override
        public void heal() throws IOException, InterruptedException {
            lab.healAll();
        }

        @Override
        public void close() throws IOException {
            lab.close();
        }
    }

    private void runOnce(String mode, long seed, Path dir, Network network) throws Exception {
        String reads = System.getProperty(RaftMemberMain.READS_PROPERTY, RaftReadMode.READ_INDEX.cliName());
        System.out.printf("RaftNemesisTest (%s, %s reads) run with seed %d (replay: -Dredoubt.seed=%d"
                + " -Dredoubt.raft.runs=1 -D%s=%s); members' directories and stderr in %s (kept if the run fails)%n",
                mode, reads, seed, seed, RaftMemberMain.READS_PROPERTY, reads, dir);
        Random random = new Random(seed);
        List<RaftGroupNode.Peer> peers = network.peers();
        RaftTls tls = network.tls();
        RaftMemberProcess[] members = new RaftMemberProcess[3];
        HistoryRecorder recorder = new HistoryRecorder();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong okWrites = new AtomicLong();
        AtomicLong lastOkNanos = new AtomicLong(System.nanoTime());
        AtomicLong longestStallNanos = new AtomicLong();
        List<String> nemesisLog = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        int stoppedBefore = RaftMemberProcess.STOPPED_ON_THEIR_OWN.size();
        try {
            for (int i = 0; i < 3; i++) {
                members[i] = network.start(dir.resolve("n" + i), i);
            }
            lastOkNanos.set(System.nanoTime());
            for (int c = 0; c < CLIENTS; c++) {
                int process = c;
                long clientSeed = seed * 31 + c;
                Thread t = new Thread(() -> client(process, clientSeed, peers, tls, recorder, stop, okWrites,
                        lastOkNanos, longestStallNanos), "client-" + c);
                t.start();
                clients.add(t);
            }
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(SECONDS);
            while (System.nanoTime() < end) {
                Thread.sleep(500 + random.nextInt(1500));
                String at = String.format("%.1fs ", (System.nanoTime() - start) / 1e9);
                switch (random.nextInt(3)) {
                    case 0 -> {
                        int victim = random.nextBoolean() ? leader(peers, tls, random) : random.nextInt(3);
                        nemesisLog.add(at + "kill -9 n" + victim);
                        members[victim].kill();
                        Thread.sleep(300 + random.nextInt(1500));
                        members[victim] = network.start(dir.resolve("n" + victim), victim);
                        nemesisLog.add("restart n" + victim);
                    }
                    case 1 -> {
                        nemesisLog.add(at + network.disturb(random, leader(peers, tls, random)));
                        Thread.sleep(500 + random.nextInt(2500));
                        network.heal();
                        nemesisLog.add("heal");
                    }
                    default -> {
                        int victim = random.nextInt(3);
                        nemesisLog.add(at + "transfer leadership to n" + victim);
                        try (RaftAdmin admin = RaftAdmin.connect(peers, tls)) {
                            admin.transferLeader("n" + victim, 3_000);
                        } catch (IOException | RuntimeException e) {
                            nemesisLog.add("(transfer failed: " + e.getMessage() + ")");
                        }
                    }
                }
            }
            network.heal();
            // Healed and all members up: the group must make progress again.
            long before = okWrites.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (okWrites.get() < before + 10 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            String stuck = okWrites.get() < before + 10 ? stuckReport(peers, tls, members) : "";
            stop.set(true);
            for (Thread t : clients) {
                t.join(120_000);
            }
            long stall = Math.max(longestStallNanos.get(), System.nanoTime() - lastOkNanos.get());
            assertThat(okWrites.get()).as("seed %d: the healed group made progress (%s)%s", seed, nemesisLog, stuck)
                    .isGreaterThanOrEqualTo(before + 10);
            finalReads(seed, peers, tls, recorder, nemesisLog);
            History history = recorder.history();
            CheckResult result = new LinearizabilityChecker().check(history);
            assertThat(result.isLinearizable()).as("seed %d, nemesis %s:%n%s", seed, nemesisLog, result.report()).isTrue();
            System.out.printf("RaftNemesisTest (%s) seed %d: %d operations, %d acknowledged writes, longest stretch without"
                    + " an acknowledged write %.1f s, nemesis: %s%n", mode, seed, history.size(), okWrites.get(), stall / 1e9,
                    nemesisLog);
            List<String> stopped;
            synchronized (RaftMemberProcess.STOPPED_ON_THEIR_OWN) {
                stopped = List.copyOf(RaftMemberProcess.STOPPED_ON_THEIR_OWN.subList(stoppedBefore,
                        RaftMemberProcess.STOPPED_ON_THEIR_OWN.size()));
            }
            assertThat(stopped).as("seed %d: members Ratis stopped on their own (a state machine failed)", seed)
                    .isEmpty();
            assertThat(TimeUnit.NANOSECONDS.toMillis(stall))
                    .as("seed %d: longest stretch without an acknowledged write while a majority was connected (%s)",
                            seed, nemesisLog)
                    .isLessThan(MAX_STALL_MILLIS);
        } finally {
            stop.set(true);
            for (Thread t : clients) {
                t.join(120_000);
            }
            for (RaftMemberProcess m : members) {
                if (m != null) {
                    m.kill();
                }
            }
        }
    }

    /** When the healed group makes no progress: what each member reports, and where its thread dump is. */
    private static String stuckReport(List<RaftGroupNode.Peer> peers, RaftTls tls, RaftMemberProcess[] members) {
        StringBuilder report = new StringBuilder("; members now:");
        try (RaftAdmin admin = RaftAdmin.connect(peers, tls)) {
            for (RaftAdmin.Member m : admin.status()) {
                report.append(System.lineSeparator()).append("  ").append(m);
            }
        } catch (IOException | RuntimeException e) {
            report.append(" (no status: ").append(e).append(')');
        }
        for (RaftMemberProcess m : members) {
            if (m != null) {
                report.append(System.lineSeparator()).append("  threads: ").append(m.dumpThreads());
            }
        }
        return report.toString();
    }

    /** The leader's position in {@code peers}, or a random member when none answers as leader. */
    private static int leader(List<RaftGroupNode.Peer> peers, RaftTls tls, Random random) {
        try (RaftAdmin admin = RaftAdmin.connect(peers, tls)) {
            List<RaftAdmin.Member> status = admin.status();
            for (int i = 0; i < status.size(); i++) {
                if ("LEADER".equals(status.get(i).role())) {
                    return i;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: any member
        }
        return random.nextInt(peers.size());
    }

    /** After the run, a fresh client reads every key (retrying for up to 3 minutes); the reads join the history. */
    private static void finalReads(long seed, List<RaftGroupNode.Peer> peers, RaftTls tls, HistoryRecorder recorder,
                                   List<String> nemesisLog) {
        long start = System.nanoTime();
        for (String key : KEYS) {
            while (true) {
                int op = recorder.invokeGet(CLIENTS, key);
                try (RaftKvClient last = RaftKvClient.connect(peers, tls)) {
                    byte[] v = last.get(bytes(key));
                    recorder.okRead(op, v == null ? null : new String(v, StandardCharsets.UTF_8));
                    break;
                } catch (IOException | RuntimeException e) {
                    recorder.fail(op);
                    assertThat(System.nanoTime() - start).as("seed %d: the healed group answers reads (%s): %s",
                            seed, nemesisLog, e).isLessThan(TimeUnit.MINUTES.toNanos(3));
                }
            }
        }
    }

    /** One client: puts unique values and reads, recording every call. A write that gives up is a timeout. */
    private static void client(int process, long seed, List<RaftGroupNode.Peer> peers, RaftTls tls,
                               HistoryRecorder recorder,
                               AtomicBoolean stop, AtomicLong okWrites, AtomicLong lastOkNanos,
                               AtomicLong longestStallNanos) {
        try (RaftKvClient client = RaftKvClient.connect(peers, tls, 1_000, 5)) {
            NemesisClientLoop.run(process, seed, KEYS, NemesisClientLoop.Store.ofBytes(client::put, client::get), recorder,
                    stop, (op, write) -> {
                if (write) {
                    okWrites.incrementAndGet();
                    long now = System.nanoTime();
                    long previous = lastOkNanos.getAndSet(now);
                    longestStallNanos.accumulateAndGet(now - previous, Math::max);
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

}
