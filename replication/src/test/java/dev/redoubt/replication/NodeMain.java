package dev.redoubt.replication;

import dev.redoubt.engine.DbOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A node in its own JVM for the process tests: {@code NodeMain DIR primary|backup PRIMARY_PORT|- SECRET_FILE
 * SEGMENT_BYTES}. Listens on an ephemeral loopback port, prints {@code READY <port>}, and runs until killed.
 */
public final class NodeMain {
    private NodeMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Node.Role role = Node.Role.valueOf(args[1].toUpperCase(java.util.Locale.ROOT));
        InetSocketAddress primary = args[2].equals("-") ? null : new InetSocketAddress("127.0.0.1", Integer.parseInt(args[2]));
        NodeConfig config = NodeConfig.of(dir, role, new InetSocketAddress("127.0.0.1", 0), primary,
                        PeerSecret.fromFile(Path.of(args[3])))
                .withDbOptions(DbOptions.defaults().walSegmentBytes(Integer.parseInt(args[4])).memtableBytes(512 * 1024))
                .withRemoteTimeoutMillis(2_000);
        Node node = Node.start(config);
        System.out.println("READY " + node.listenAddress().getPort());
        System.out.flush();
        Thread.currentThread().join();
    }
}
