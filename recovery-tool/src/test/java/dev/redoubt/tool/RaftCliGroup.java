package dev.redoubt.tool;

import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Raft members n0, n1, ... in this JVM on loopback, for the CLI tests; {@link #spec} is a --peers value. */
final class RaftCliGroup implements AutoCloseable {
    private static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024);

    private final Path dir;
    private final List<RaftGroupNode.Peer> peers = new ArrayList<>();
    private final Map<String, RaftGroupNode> running = new LinkedHashMap<>();

    /** {@code size} peers with free ports, of which the first {@code founders} are started as the group. */
    RaftCliGroup(Path dir, int size, int founders) throws IOException {
        this.dir = dir;
        for (int i = 0; i < size; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                peers.add(new RaftGroupNode.Peer("n" + i, new InetSocketAddress("127.0.0.1", s.getLocalPort())));
            }
        }
        List<RaftGroupNode.Peer> group = peers.subList(0, founders);
        for (RaftGroupNode.Peer p : group) {
            running.put(p.id(), RaftGroupNode.start(dir.resolve(p.id()), p.id(), List.copyOf(group), SMALL));
        }
    }

    /** A --peers value for the peers with these ids. */
    String spec(String... ids) {
        return peers.stream().filter(p -> List.of(ids).contains(p.id()))
                .map(p -> p.id() + "@127.0.0.1:" + p.address().getPort()).collect(Collectors.joining(","));
    }

    /** Starts {@code id} as a newcomer waiting for add-peer. */
    void join(String id) {
        running.put(id, RaftGroupNode.join(dir.resolve(id), id, List.copyOf(peers), SMALL));
    }

    void stop(String id) {
        running.remove(id).close();
    }

    @Override
    public void close() {
        running.values().forEach(RaftGroupNode::close);
    }
}
