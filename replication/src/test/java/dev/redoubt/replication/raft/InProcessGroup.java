package dev.redoubt.replication.raft;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.testsupport.Await;
import dev.redoubt.testsupport.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Raft members in this JVM, for tests: peers n0, n1, ... each with its own port and directory, on loopback unless
 * a host is given; optionally with Raft log options and a credential per member.
 */
final class InProcessGroup implements AutoCloseable {
    static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024);

    private final Path dir;
    private final List<RaftGroupNode.Peer> peers = new ArrayList<>();
    private final Map<String, RaftGroupNode> running = new LinkedHashMap<>();
    private final Map<String, RaftTls> credentials = new HashMap<>();
    private RaftLogOptions logOptions = RaftLogOptions.defaults();
    private RaftReadMode reads = RaftReadMode.READ_INDEX;
    private List<RaftGroupNode.Peer> founders = List.of();

    /** {@code size} peers on loopback with free ports; none started. */
    InProcessGroup(Path dir, int size) throws IOException {
        this(dir, "127.0.0.1", size);
    }

    /** {@code size} peers on {@code host} (an address of this machine) with free ports; none started. */
    InProcessGroup(Path dir, String host, int size) throws IOException {
        this.dir = dir;
        for (int i = 0; i < size; i++) {
            peers.add(new RaftGroupNode.Peer("n" + i, new InetSocketAddress(host, FreePorts.on(InetAddress.getByName(host)))));
        }
    }

    /** Members started from now on snapshot and trim their Raft log by {@code options}; returns this. */
    InProcessGroup withLogOptions(RaftLogOptions options) {
        this.logOptions = options;
        return this;
    }

    /** Members started from now on answer linearizable reads as {@code mode} says; returns this. */
    InProcessGroup withReads(RaftReadMode mode) {
        this.reads = mode;
        return this;
    }

    /** Member n<i>i</i> started from now on authenticates with {@code perMember[i]} (null: none); returns this. */
    InProcessGroup withCredentials(RaftTls... perMember) {
        for (int i = 0; i < perMember.length; i++) {
            credentials.put(peers.get(i).id(), perMember[i]);
        }
        return this;
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
        founders = peers(n);
        for (RaftGroupNode.Peer p : founders) {
            start(p.id());
        }
    }

    /** The founding members, as {@link #startFounders} chose them (empty before). */
    List<RaftGroupNode.Peer> founders() {
        return founders;
    }

    /**
     * Starts founding member {@code id} with the founders' configuration in its directory: again after
     * {@link #stop}, it restarts on the files it left.
     */
    RaftGroupNode start(String id) {
        RaftTls tls = credentials.get(id);
        RaftGroupNode n = RaftGroupNode.start(dir.resolve(id), id, founders, -1, SMALL, logOptions, tls,
                FileStorageEnv.INSTANCE, reads);
        running.put(id, n);
        return n;
    }

    /** Starts {@code id} as a newcomer waiting to be added, with its credential (default Raft log options). */
    RaftGroupNode join(String id) {
        RaftGroupNode n = RaftGroupNode.join(dir.resolve(id), id, List.copyOf(peers), SMALL, credentials.get(id));
        running.put(id, n);
        return n;
    }

    /** The running member {@code id}, or null. */
    RaftGroupNode node(String id) {
        return running.get(id);
    }

    /** The running members, in the order they started. */
    List<RaftGroupNode> nodes() {
        return List.copyOf(running.values());
    }

    /** Stops running member {@code id}; its files stay, for {@link #start} or {@link #join} to restart it on. */
    void stop(String id) {
        running.remove(id).close();
    }

    /** The id of the running member that leads, waiting for one. */
    String leader() throws InterruptedException {
        Await.until(() -> running.values().stream().anyMatch(RaftGroupNode::isLeader), "a leader");
        return running.entrySet().stream().filter(e -> e.getValue().isLeader()).findFirst().orElseThrow().getKey();
    }

    /** A running member (among {@code among}) that does not lead. */
    String follower(List<RaftGroupNode.Peer> among) throws InterruptedException {
        String leader = leader();
        return among.stream().map(RaftGroupNode.Peer::id).filter(id -> !id.equals(leader) && running.containsKey(id))
                .findFirst().orElseThrow();
    }

    /**
     * Waits until every running member applied {@code index}: so every link is up before a test stops a member (a
     * member that started last may still be in gRPC's reconnect backoff, and stopping another one then leaves no
     * majority for a while).
     */
    void awaitApplied(long index) throws InterruptedException {
        for (RaftGroupNode n : nodes()) {
            Await.until(() -> n.stateMachine().appliedIndex() >= index, "every member applied index " + index);
        }
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


}
