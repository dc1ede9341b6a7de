package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jepsen-style: three member processes ({@link RaftMemberMain} JVMs on loopback), each behind a TCP proxy at its
 * advertised address (so a member can be isolated and healed), concurrent clients putting unique values to a
 * small key set and reading it, and a nemesis that SIGKILLs and restarts members (the leader half of the time),
 * isolates and heals them, and transfers leadership. Must hold: the recorded history (invoke / ok / fail /
 * timeout, with times) is linearizable per key; every acknowledged write is readable at the end (a last client
 * reads every key, and those reads are in the history, so a lost write is a linearizability violation); and the
 * group makes progress whenever a majority is connected (the nemesis disturbs one member at a time, so the
 * longest stretch without an acknowledged write is bounded, and writes go through again after the heal).
 *
 * <p>{@code -Dredoubt.raft.runs} (default 3) runs of {@code -Dredoubt.raft.seconds} (default 30); replay a run
 * with {@code -Dredoubt.seed=<the seed it printed>}. Each member's stderr is kept beside its directory.
 *
 * <p>One address per member means one proxy per member, not per link: "isolate" blackholes what reaches the
 * member, while connections it opens itself still work (an asymmetric partition).
 */
class RaftNemesisTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final int RUNS = Integer.getInteger("redoubt.raft.runs", 3);
    private static final int SECONDS = Integer.getInteger("redoubt.raft.seconds", 30);
    /** Longest time the group may go without acknowledging a write while at most one member is disturbed. */
    private static final long MAX_STALL_MILLIS = Long.getLong("redoubt.raft.maxStallMillis", 45_000);
    private static final int CLIENTS = 3;
    private static final String[] KEYS = {"a", "b", "c"};

    @TempDir
    Path tmp;

    /** Bounded: each run gets its nemesis time plus 10 minutes (start, heal, final reads, checking). */
    @Test
    void historiesUnderKillsIsolationsAndLeaderTransfersAreLinearizable() {
        assertTimeoutPreemptively(Duration.ofSeconds((long) RUNS * (SECONDS + 600)), () -> {
            for (int run = 0; run < RUNS; run++) {
                runOnce(SEED + run, tmp.resolve("run" + run));
            }
        });
        System.out.printf("RaftNemesisTest: %d restarts found the engine behind the Raft commit index (its unsynced"
                + " tail lost with the process); Ratis replayed %d entries%n",
                RaftMemberProcess.RESTARTS_WITH_ENGINE_BEHIND.get(), RaftMemberProcess.ENTRIES_REPLAYED.get());
    }

    private void runOnce(long seed, Path dir) throws Exception {
        System.out.printf("RaftNemesisTest run with seed %d (replay: -Dredoubt.seed=%d -Dredoubt.raft.runs=1)%n", seed, seed);
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
        RaftMemberProcess[] members = new RaftMemberProcess[3];
        HistoryRecorder recorder = new HistoryRecorder();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong okWrites = new AtomicLong();
        AtomicLong lastOkNanos = new AtomicLong(System.nanoTime());
        AtomicLong longestStallNanos = new AtomicLong();
        List<String> nemesisLog = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                members[i] = RaftMemberProcess.start(dir.resolve("n" + i), "n" + i, peers, realPorts[i]);
            }
            lastOkNanos.set(System.nanoTime());
            for (int c = 0; c < CLIENTS; c++) {
                int process = c;
                long clientSeed = seed * 31 + c;
                Thread t = new Thread(() -> client(process, clientSeed, peers, recorder, stop, okWrites, lastOkNanos,
                        longestStallNanos), "client-" + c);
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
                        int victim = random.nextBoolean() ? leader(peers, random) : random.nextInt(3);
                        nemesisLog.add(at + "kill -9 n" + victim);
                        members[victim].kill();
                        Thread.sleep(300 + random.nextInt(1500));
                        members[victim] = RaftMemberProcess.start(dir.resolve("n" + victim), "n" + victim, peers,
                                realPorts[victim]);
                        nemesisLog.add("restart n" + victim);
                    }
                    case 1 -> {
                        int victim = random.nextInt(3);
                        nemesisLog.add(at + "isolate n" + victim);
                        proxies.get(victim).blackhole();
                        Thread.sleep(500 + random.nextInt(2500));
                        proxies.get(victim).pass();
                        nemesisLog.add("heal n" + victim);
                    }
                    default -> {
                        int victim = random.nextInt(3);
                        nemesisLog.add(at + "transfer leadership to n" + victim);
                        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
                            admin.transferLeader("n" + victim, 3_000);
                        } catch (IOException | RuntimeException e) {
                            nemesisLog.add("(transfer failed: " + e.getMessage() + ")");
                        }
                    }
                }
            }
            for (TcpProxyAccess p : proxies) {
                p.pass();
            }
            // Healed and all members up: the group must make progress again.
            long before = okWrites.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (okWrites.get() < before + 10 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            stop.set(true);
            for (Thread t : clients) {
                t.join(120_000);
            }
            long stall = Math.max(longestStallNanos.get(), System.nanoTime() - lastOkNanos.get());
            assertThat(okWrites.get()).as("seed %d: the healed group made progress (%s)", seed, nemesisLog)
                    .isGreaterThanOrEqualTo(before + 10);
            finalReads(seed, peers, recorder, nemesisLog);
            History history = recorder.history();
            CheckResult result = new LinearizabilityChecker().check(history);
            assertThat(result.isLinearizable()).as("seed %d, nemesis %s:%n%s", seed, nemesisLog, result.report()).isTrue();
            System.out.printf("RaftNemesisTest seed %d: %d operations, %d acknowledged writes, longest stretch without"
                    + " an acknowledged write %.1f s, nemesis: %s%n", seed, history.size(), okWrites.get(), stall / 1e9,
                    nemesisLog);
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
            for (TcpProxyAccess p : proxies) {
                p.close();
            }
        }
    }

    /** The leader's position in {@code peers}, or a random member when none answers as leader. */
    private static int leader(List<RaftGroupNode.Peer> peers, Random random) {
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
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
    private static void finalReads(long seed, List<RaftGroupNode.Peer> peers, HistoryRecorder recorder,
                                   List<String> nemesisLog) {
        long start = System.nanoTime();
        for (String key : KEYS) {
            while (true) {
                int op = recorder.invokeGet(CLIENTS, key);
                try (RaftKvClient last = RaftKvClient.connect(peers)) {
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
    private static void client(int process, long seed, List<RaftGroupNode.Peer> peers, HistoryRecorder recorder,
                               AtomicBoolean stop, AtomicLong okWrites, AtomicLong lastOkNanos,
                               AtomicLong longestStallNanos) {
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
                        long now = System.nanoTime();
                        long previous = lastOkNanos.getAndSet(now);
                        longestStallNanos.accumulateAndGet(now - previous, Math::max);
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
