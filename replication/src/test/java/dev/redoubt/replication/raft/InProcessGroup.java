package dev.redoubt.replication.raft;

import dev.redoubt.engine.DbOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Raft members in this JVM on loopback, for tests: peers n0, n1, ... each with its own port and directory. */
final class InProcessGroup implements AutoCloseable {
    static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024);

    private final Path dir;
    private final List<RaftGroupNode.Peer> peers = new ArrayList<>();
    private final Map<String, RaftGroupNode> running = new LinkedHashMap<>();

    /** {@code size} peers with free ports; none started. */
    InProcessGroup(Path dir, int size) throws IOException {
        this.dir = dir;
        for (int i = 0; i < size; i++) {
            peers.add(new RaftGroupNode.Peer("n" + i, new InetSocketAddress("127.0.0.1", freePort())));
        }
    }

    /** The first {@code n} peers. */
    List<RaftGroupNode.Peer> peers(int n) {
        return List.copyOf(peers.subList(0, n));
    }

    RaftGroupNode.Peer peer(String id) {
        return peers.stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow();
    }

    /** Starts the first {@code n} peers as the group's founding members. */
    void startFounders(int n) {
        for (RaftGroupNode.Peer p : peers(n)) {
            running.put(p.id(), RaftGroupNode.start(dir.resolve(p.id()), p.id(), peers(n), SMALL));
        }
    }

    /** Starts {@code id} as a newcomer waiting to be added. */
    RaftGroupNode join(String id) {
        RaftGroupNode n = RaftGroupNode.join(dir.resolve(id), id, List.copyOf(peers), SMALL);
        running.put(id, n);
        return n;
    }

    RaftGroupNode node(String id) {
        return running.get(id);
    }

    void stop(String id) {
        running.remove(id).close();
    }

    /** The id of the running member that leads, waiting for one. */
    String leader() throws InterruptedException {
        awaitTrue(() -> running.values().stream().anyMatch(RaftGroupNode::isLeader), "a leader");
        return running.entrySet().stream().filter(e -> e.getValue().isLeader()).findFirst().orElseThrow().getKey();
    }

    /** A running member (among {@code among}) that does not lead. */
    String follower(List<RaftGroupNode.Peer> among) throws InterruptedException {
        String leader = leader();
        return among.stream().map(RaftGroupNode.Peer::id).filter(id -> !id.equals(leader) && running.containsKey(id))
                .findFirst().orElseThrow();
    }

    @Override
    public void close() {
        running.values().forEach(RaftGroupNode::close);
        running.clear();
    }

    static byte[] key(int i) {
        return String.format("key-%05d", i).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(int i) {
        return ("value-" + i).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
