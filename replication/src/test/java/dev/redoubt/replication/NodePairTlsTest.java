package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.replication.raft.RaftTls;
import dev.redoubt.replication.raft.TestCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A node pair whose links are mutual TLS with the group credential: the stream and clients work; outsiders cannot. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodePairTlsTest {
    @TempDir
    Path tmp;

    private final List<Node> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        nodes.forEach(Node::close);
    }

    @Test
    void theStreamAndClientsRunOverTlsAndPeersWithoutTheCredentialAreRefused() throws Exception {
        RaftTls group = TestCredentials.group();
        Node primary = start(NodeConfig.of(tmp.resolve("p"), Node.Role.PRIMARY, NodePairTest.loopback(), null,
                NodePairTest.SECRET).withDbOptions(NodePairTest.SMALL).withTls(group));
        Node backup = start(NodeConfig.of(tmp.resolve("b"), Node.Role.BACKUP, NodePairTest.loopback(),
                primary.listenAddress(), NodePairTest.SECRET).withDbOptions(NodePairTest.SMALL).withTls(group));
        byte[] key = "tls-key".getBytes(StandardCharsets.UTF_8);
        byte[] value = "over TLS 1.3".getBytes(StandardCharsets.UTF_8);
        try (NodeClient c = NodeClient.connect(primary.listenAddress(), NodePairTest.SECRET, group, 5_000)) {
            WriteReceipt r = c.put(key, value, CommitLevel.REMOTE_APPLY);
            assertThat(r.reached()).isEqualTo(WriteReceipt.Reached.REMOTE_APPLIED);
        }
        try (NodeClient c = NodeClient.connect(backup.listenAddress(), NodePairTest.SECRET, group, 5_000)) {
            assertThat(c.get(key)).isEqualTo(value);
        }
        assertThatThrownBy(() -> NodeClient.connect(primary.listenAddress(), NodePairTest.SECRET, 2_000).close())
                .as("a client without TLS").isInstanceOf(IOException.class);
        assertThatThrownBy(() -> NodeClient.connect(primary.listenAddress(), NodePairTest.SECRET,
                TestCredentials.other(), 2_000).close())
                .as("a client with another group's credential").isInstanceOf(IOException.class);
    }

    private Node start(NodeConfig config) {
        Node n = Node.start(config);
        nodes.add(n);
        return n;
    }
}
