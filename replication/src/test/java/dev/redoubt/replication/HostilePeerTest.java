package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.engine.WriteBatch;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that do not follow the protocol are disconnected and the node keeps serving: a wrong secret, garbage
 * bytes, an oversized length before authentication, a frame from a stale epoch.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostilePeerTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path tmp;

    private Node node;

    @BeforeEach
    void start() {
        node = Node.start(NodeConfig.of(tmp.resolve("p"), Node.Role.PRIMARY, NodePairTest.loopback(), null,
                NodePairTest.SECRET).withDbOptions(NodePairTest.SMALL));
        node.write(new WriteBatch().put(NodePairTest.key(1), NodePairTest.bytes("v")), CommitLevel.LOCAL);
    }

    @AfterEach
    void stop() {
        node.close();
    }

    private void assertStillServes() throws Exception {
        try (NodeClient c = NodeClient.connect(node.listenAddress(), NodePairTest.SECRET, 5_000)) {
            assertThat(c.get(NodePairTest.key(1))).isEqualTo(NodePairTest.bytes("v"));
        }
        assertThat(node.role()).isEqualTo(Node.Role.PRIMARY);
    }

    @Test
    void aClientWithTheWrongSecretIsRefused() throws Exception {
        PeerSecret wrong = PeerSecret.of("not-the-secret-of-this-pair".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> NodeClient.connect(node.listenAddress(), wrong, 5_000).close())
                .isInstanceOf(ProtocolException.class).hasMessageContaining("does not hold the same secret");
        assertStillServes();
    }

    @Test
    void garbageBytesAreDisconnected() throws Exception {
        Random random = new Random(SEED);
        for (int trial = 0; trial < 20; trial++) {
            byte[] garbage = new byte[1 + random.nextInt(2000)];
            random.nextBytes(garbage);
            assertThat(sendAndSeeClosed(garbage)).as("seed %d, trial %d", SEED, trial).isTrue();
        }
        assertStillServes();
    }

    @Test
    void anOversizedLengthBeforeAuthenticationIsDisconnectedWithoutAllocating() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(Integer.MAX_VALUE);
        out.writeInt(0);
        assertThat(sendAndSeeClosed(bytes.toByteArray())).isTrue();
        assertStillServes();
    }

    @Test
    void aFenceFromAnOlderOrEqualEpochIsIgnored() throws Exception {
        try (NodeClient c = NodeClient.connect(node.listenAddress(), NodePairTest.SECRET, 5_000)) {
            c.fence(0);
        }
        assertStillServes();
        node.write(new WriteBatch().put(NodePairTest.key(2), NodePairTest.bytes("w")), CommitLevel.LOCAL);
    }

    @Test
    void aFrameWithABadChecksumAfterAuthenticationIsDisconnected() throws Exception {
        try (NodeClient c = NodeClient.connect(node.listenAddress(), NodePairTest.SECRET, 5_000)) {
            // Reach into the channel: a REQUEST frame whose checksum is wrong.
            java.lang.reflect.Field f = NodeClient.class.getDeclaredField("channel");
            f.setAccessible(true);
            FrameChannel channel = (FrameChannel) f.get(c);
            java.lang.reflect.Field s = FrameChannel.class.getDeclaredField("out");
            s.setAccessible(true);
            DataOutputStream raw = (DataOutputStream) s.get(channel);
            raw.writeInt(5);
            raw.writeInt(12345);
            raw.write(new byte[] {20, 0, 0, 0, 0});
            raw.flush();
            assertThatThrownBy(() -> channel.receive()).isInstanceOf(java.io.IOException.class);
        }
        assertStillServes();
    }

    /** Sends {@code bytes} on a fresh connection; true if the node closed it (EOF) rather than hanging. */
    private boolean sendAndSeeClosed(byte[] bytes) throws Exception {
        try (Socket s = new Socket(node.listenAddress().getAddress(), node.listenAddress().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(bytes);
                out.flush();
            } catch (java.io.IOException closedWhileWriting) {
                return true;
            }
            InputStream in = s.getInputStream();
            try {
                // The node may answer with an ERROR frame before closing; read until EOF.
                while (in.read() >= 0) {
                    // drain
                }
                return true;
            } catch (java.net.SocketException reset) {
                return true;
            }
        }
    }
}
