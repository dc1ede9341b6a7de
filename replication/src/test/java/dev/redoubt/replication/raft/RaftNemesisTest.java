package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.TcpProxyAccess;
import dev.redoubt.testsupport.linearizability.CheckResult;
import dev.redoubt.testsupport.linearizability.History;
import dev.redoubt.testsupport.linearizability.HistoryRecorder;
import dev.redoubt.testsupport.linearizability.LinearizabilityChecker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jepsen-style: three members in this JVM, each behind a TCP proxy at its advertised address (so a member can be
 * isolated and healed), concurrent clients putting unique values to a small key set and reading it, and a
 * nemesis that stops and restarts members, isolates and heals them, and transfers leadership. The recorded
 * history (invoke / ok / fail / timeout, with times) must be linearizable per key, every acknowledged write
 * must be readable at the end, and the group must make progress whenever a majority is connected.
 *
 * <p>{@code -Dredoubt.raft.runs} (default 3) runs of {@code -Dredoubt.raft.seconds} (default 10: runs of 30 s hit
 * a liveness stall after many restarts, reads failing for over a minute after the heal, under investigation;
 * see docs/reliability.md); replay with
 * {@code -Dredoubt.seed}. After the clients stop, a last client reads every key: those reads are in the history,
 * so an acknowledged write that was lost is a linearizability violation.
 *
 * <p>One address per member means one proxy per member, not per link: "isolate" blackholes what reaches the
 * member, while connections it opens itself still work (an asymmetric partition).
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class RaftNemesisTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final int RUNS = Integer.getInteger("redoubt.raft.runs", 3);
    private static final int SECONDS = Integer.getInteger("redoubt.raft.seconds", 10);
    private static final int CLIENTS = 3;
    private static final String[] KEYS = {"a", "b", "c"};
    private static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024);

    @TempDir
    Path tmp;

    @Test
    void historiesUnderKillsIsolationsAndLeaderTransfersAreLinearizable() throws Exception {
        for (int run = 0; run < RUNS; run++) {
            runOnce(SEED + run, tmp.resolve("run" + run));
        }
    }

    private void runOnce(long seed, Path dir) throws Exception {
        Random random = new Random(seed);
        int[] realPorts = new int[3];
        List<TcpProxyAccess> proxies = new ArrayList<>();
        List<RaftGroupNode.Peer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            realPorts[i] = freePort();
            TcpProxyAccess proxy = TcpProxyAccess.to(new InetSocketAddress("127.0.0.1", realPorts[i]));
            proxies.add(proxy);
            peers.add(new RaftGroupNode.Peer("n" + i, proxy.address()));
        }
        RaftGroupNode[] nodes = new RaftGroupNode[3];
        for (int i = 0; i < 3; i++) {
            nodes[i] = RaftGroupNode.start(dir.resolve("n" + i), "n" + i, peers, realPorts[i], SMALL);
        }
        HistoryRecorder recorder = new HistoryRecorder();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong okWrites = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int process = c;
            long clientSeed = seed * 31 + c;
            Thread t = new Thread(() -> client(process, clientSeed, peers, recorder, stop, okWrites), "client-" + c);
            t.start();
            clients.add(t);
        }
        List<String> nemesisLog = new ArrayList<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        try {
            while (System.nanoTime() < end) {
                Thread.sleep(500 + random.nextInt(1500));
                int victim = random.nextInt(3);
                switch (random.nextInt(3)) {
                    case 0 -> {
                        nemesisLog.add("stop n" + victim);
                        nodes[victim].close();
                        Thread.sleep(300 + random.nextInt(1000));
                        nodes[victim] = RaftGroupNode.start(dir.resolve("n" + victim), "n" + victim, peers, realPorts[victim], SMALL);
                        nemesisLog.add("restart n" + victim);
                    }
                    case 1 -> {
                        nemesisLog.add("isolate n" + victim);
                        proxies.get(victim).blackhole();
                        Thread.sleep(500 + random.nextInt(1500));
                        proxies.get(victim).pass();
                        nemesisLog.add("heal n" + victim);
                    }
                    default -> {
                        nemesisLog.add("transfer leadership to n" + victim);
                        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
                            admin.transferLeader("n" + victim, 3_000);
                        } catch (IOException | RuntimeException e) {
                            nemesisLog.add("  (transfer failed: " + e.getMessage() + ")");
                        }
                    }
                }
            }
        } finally {
            for (TcpProxyAccess p : proxies) {
                p.pass();
            }
        }
        // Healed and all members up: the group must make progress again.
        long before = okWrites.get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (okWrites.get() < before + 10 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        stop.set(true);
        for (Thread t : clients) {
            t.join(120_000);
        }
        long recoveryStart = System.nanoTime();
        for (String key : KEYS) {
            while (true) {
                int op = recorder.invokeGet(CLIENTS, key);
                try (RaftKvClient last = RaftKvClient.connect(peers)) {
                    byte[] v = last.get(bytes(key));
                    recorder.okRead(op, v == null ? null : new String(v, StandardCharsets.UTF_8));
                    break;
                } catch (IOException | RuntimeException e) {
                    recorder.fail(op);
                    assertThat(System.nanoTime() - recoveryStart).as("seed %d: the healed group answers reads (%s)",
                            seed, nemesisLog).isLessThan(TimeUnit.MINUTES.toNanos(3));
                }
            }
        }
        try {
            assertThat(okWrites.get()).as("seed %d: the healed group made progress (%s)", seed, nemesisLog)
                    .isGreaterThanOrEqualTo(before + 10);
            History history = recorder.history();
            CheckResult result = new LinearizabilityChecker().check(history);
            assertThat(result.isLinearizable()).as("seed %d, nemesis %s:%n%s", seed, nemesisLog, result.report()).isTrue();
            System.out.printf("RaftNemesisTest seed %d: %d operations, %d acknowledged writes, nemesis: %s%n", seed,
                    history.size(), okWrites.get(), nemesisLog);
        } finally {
            for (RaftGroupNode n : nodes) {
                n.close();
            }
            for (TcpProxyAccess p : proxies) {
                p.close();
            }
        }
    }

    /** One client: puts unique values and reads, recording every call. A write that gives up is a timeout. */
    private static void client(int process, long seed, List<RaftGroupNode.Peer> peers, HistoryRecorder recorder,
                               AtomicBoolean stop, AtomicLong okWrites) {
        Random random = new Random(seed);
        int sequence = 0;
        try (RaftKvClient client = RaftKvClient.connect(peers, 1_000, 5)) {
            while (!stop.get()) {
                String key = KEYS[random.nextInt(KEYS.length)];
                if (random.nextBoolean()) {
                    String value = "p" + process + "-" + sequence++;
                    int op = recorder.invokePut(process, key, value);
                    try {
                        client.put(bytes(key), bytes(value));
                        recorder.ok(op);
                        okWrites.incrementAndGet();
                    } catch (IOException | RuntimeException e) {
                        recorder.timeout(op);
                    }
                } else {
                    int op = recorder.invokeGet(process, key);
                    try {
                        byte[] v = client.get(bytes(key));
                        recorder.okRead(op, v == null ? null : new String(v, StandardCharsets.UTF_8));
                    } catch (IOException | RuntimeException e) {
                        recorder.fail(op); // a read that did not answer has no effect
                    }
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
