package dev.redoubt.replication.raft;

import static dev.redoubt.replication.raft.InProcessGroup.bytes;
import static dev.redoubt.replication.raft.InProcessGroup.key;
import static dev.redoubt.replication.raft.InProcessGroup.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.testsupport.Await;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
    @TempDir
    Path tmp;

    @Test
    void committedWritesReachEveryMemberAndReadsSeeThem() throws Exception {
        try (InProcessGroup group = new InProcessGroup(tmp, 3)) {
            group.startFounders(3);
            long last = 0;
            try (RaftKvClient client = RaftKvClient.connect(group.founders())) {
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
            group.awaitApplied(last);
            for (RaftGroupNode n : group.nodes()) {
                assertThat(n.stateMachine().db().get(RaftKeySpace.stored(key(199)))).isEqualTo(value(199));
                assertThat(n.stateMachine().db().get(RaftKeySpace.stored(key(7)))).isNull();
            }
        }
    }

    /**
     * A value the engines cannot take in one WAL record (their 256 KiB segments bound a batch) is refused by the
     * leader before it enters the log: committed, it would stop every member's state machine at that index.
     */
    @Test
    void aWriteTheEnginesWouldRefuseIsRefusedBeforeTheLogAndTheGroupKeepsWorking() throws Exception {
        try (InProcessGroup group = new InProcessGroup(tmp, 3)) {
            group.startFounders(3);
            try (RaftKvClient client = RaftKvClient.connect(group.founders())) {
                long before = client.put(key(1), value(1));
                assertThatThrownBy(() -> client.put(key(2), new byte[600 * 1024]))
                        .hasMessageContaining("refused before the log").hasMessageContaining("takes batches up to");
                long after = client.put(key(3), value(3));
                assertThat(client.get(key(2))).isNull();
                assertThat(client.get(key(3))).isEqualTo(value(3));
                group.awaitApplied(after);
                for (RaftGroupNode n : group.nodes()) {
                    assertThat(n.stateMachine().db().get(RaftKeySpace.stored(key(2)))).isNull();
                }
                assertThat(after - before).as("no log entry for the refused write between them").isLessThanOrEqualTo(3);
            }
        }
    }

    @Test
    void theGroupKeepsCommittingWhenItsLeaderStopsAndTheLeaderReplaysIdempotentlyWhenItReturns() throws Exception {
        try (InProcessGroup group = new InProcessGroup(tmp, 3)) {
            group.startFounders(3);
            try (RaftKvClient client = RaftKvClient.connect(group.founders())) {
                for (int i = 0; i < 50; i++) {
                    client.put(key(i), value(i));
                }
                String leader = group.leader();
                group.stop(leader);
                long last = 0;
                for (int i = 50; i < 100; i++) {
                    last = client.put(key(i), value(i));
                }
                assertThat(client.get(key(99))).isEqualTo(value(99));
                RaftGroupNode back = group.start(leader);
                long index = last;
                Await.until(() -> back.stateMachine().appliedIndex() >= index, "the returning member caught up");
                for (int i = 0; i < 100; i++) {
                    assertThat(back.stateMachine().db().get(RaftKeySpace.stored(key(i)))).as("key %d", i)
                            .isEqualTo(value(i));
                }
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
}
