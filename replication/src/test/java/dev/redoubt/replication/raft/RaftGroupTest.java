package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.engine.DbOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three Ratis members in this JVM on loopback with the engine as state machine: writes commit and reach every
 * member, reads are answered, the group survives the loss of its leader, and a member that restarts replays
 * idempotently by index.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RaftGroupTest {
    private static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024);

    @TempDir
    Path tmp;

    private final List<RaftGroupNode> nodes = new ArrayList<>();
    private List<RaftGroupNode.Peer> peers;

    @AfterEach
    void closeAll() {
        for (RaftGroupNode n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    private void startGroup() throws IOException {
        peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peers.add(new RaftGroupNode.Peer("n" + i, new InetSocketAddress("127.0.0.1", freePort())));
        }
        for (int i = 0; i < 3; i++) {
            nodes.add(start(i));
        }
    }

    private RaftGroupNode start(int i) {
        return RaftGroupNode.start(tmp.resolve("n" + i), "n" + i, peers, SMALL);
    }

    @Test
    void committedWritesReachEveryMemberAndReadsSeeThem() throws Exception {
        startGroup();
        long last = 0;
        try (RaftKvClient client = RaftKvClient.connect(peers)) {
            for (int i = 0; i < 200; i++) {
                last = client.put(key(i), value(i));
            }
            client.delete(key(7));
            last = client.put(key(1), bytes("again"));
            assertThat(client.get(key(0))).isEqualTo(value(0));
            assertThat(client.get(key(1))).isEqualTo(bytes("again"));
            assertThat(client.get(key(7))).isNull();
            assertThat(client.get(bytes("never written"))).isNull();
        }
        long index = last;
        for (RaftGroupNode n : nodes) {
            awaitTrue(() -> n.stateMachine().appliedIndex() >= index, "every member applied index " + index);
            assertThat(n.stateMachine().db().get(DbStateMachine.stored(key(199)))).isEqualTo(value(199));
            assertThat(n.stateMachine().db().get(DbStateMachine.stored(key(7)))).isNull();
        }
    }

    /**
     * A value the engines cannot take in one WAL record (their 256 KiB segments bound a batch) is refused by the
     * leader before it enters the log: committed, it would stop every member's state machine at that index.
     */
    @Test
    void aWriteTheEnginesWouldRefuseIsRefusedBeforeTheLogAndTheGroupKeepsWorking() throws Exception {
        startGroup();
        try (RaftKvClient client = RaftKvClient.connect(peers)) {
            long before = client.put(key(1), value(1));
            assertThatThrownBy(() -> client.put(key(2), new byte[600 * 1024]))
                    .hasMessageContaining("refused before the log").hasMessageContaining("takes batches up to");
            long after = client.put(key(3), value(3));
            assertThat(client.get(key(2))).isNull();
            assertThat(client.get(key(3))).isEqualTo(value(3));
            for (RaftGroupNode n : nodes) {
                awaitTrue(() -> n.stateMachine().appliedIndex() >= after, "every member applied index " + after);
                assertThat(n.stateMachine().db().get(DbStateMachine.stored(key(2)))).isNull();
            }
            assertThat(after - before).as("no log entry for the refused write between them").isLessThanOrEqualTo(3);
        }
    }

    @Test
    void theGroupKeepsCommittingWhenItsLeaderStopsAndTheLeaderReplaysIdempotentlyWhenItReturns() throws Exception {
        startGroup();
        try (RaftKvClient client = RaftKvClient.connect(peers)) {
            for (int i = 0; i < 50; i++) {
                client.put(key(i), value(i));
            }
            awaitTrue(() -> nodes.stream().anyMatch(RaftGroupNode::isLeader), "a leader");
            int leader = 0;
            while (!nodes.get(leader).isLeader()) {
                leader++;
            }
            nodes.get(leader).close();
            nodes.set(leader, null);
            long last = 0;
            for (int i = 50; i < 100; i++) {
                last = client.put(key(i), value(i));
            }
            assertThat(client.get(key(99))).isEqualTo(value(99));
            RaftGroupNode back = start(leader);
            nodes.set(leader, back);
            long index = last;
            awaitTrue(() -> back.stateMachine().appliedIndex() >= index, "the returning member caught up");
            for (int i = 0; i < 100; i++) {
                assertThat(back.stateMachine().db().get(DbStateMachine.stored(key(i)))).as("key %d", i).isEqualTo(value(i));
            }
        }
    }

    @Test
    void malformedCommandsAreRefusedByTheDecoder() {
        for (byte[] bad : new byte[][] {{}, {9, 0, 0, 0, 0}, {1, 0, 0, 0, 5, 1}, {2, 0, 0, 0, 0, 7}}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RaftCommand.decode(java.nio.ByteBuffer.wrap(bad)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        RaftCommand put = RaftCommand.put(key(1), value(1));
        RaftCommand again = RaftCommand.decode(put.encode());
        assertThat(again.key()).isEqualTo(put.key());
        assertThat(again.value()).isEqualTo(put.value());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static byte[] key(int i) {
        return String.format("key-%05d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        return ("value-" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
