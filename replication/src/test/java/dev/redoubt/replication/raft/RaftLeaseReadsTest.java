package dev.redoubt.replication.raft;

import static dev.redoubt.replication.raft.InProcessGroup.key;
import static dev.redoubt.replication.raft.InProcessGroup.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.StorageException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Leader-lease reads ({@link RaftReadMode#LEADER_LEASE}) on three members in this JVM. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RaftLeaseReadsTest {
    @TempDir
    Path tmp;

    @Test
    void membersStartedForLeaseReadsAnswerReadsOfTheLatestWriteAcrossALeadershipTransfer() throws Exception {
        try (InProcessGroup group = new InProcessGroup(tmp, 3).withReads(RaftReadMode.LEADER_LEASE)) {
            group.startFounders(3);
            assertThat(group.nodes()).allSatisfy(n -> assertThat(n.readMode()).isEqualTo(RaftReadMode.LEADER_LEASE));
            try (RaftKvClient client = RaftKvClient.connect(group.peers(3))) {
                for (int i = 0; i < 50; i++) {
                    client.put(key(1), value(i));
                    assertThat(client.get(key(1))).isEqualTo(value(i));
                }
                String from = group.leader();
                String to = group.follower(group.peers(3));
                try (RaftAdmin admin = RaftAdmin.connect(group.peers(3))) {
                    admin.transferLeader(to, 10_000);
                }
                client.put(key(1), value(1_000));
                assertThat(client.get(key(1))).as("read after leadership moved from %s to %s", from, to)
                        .isEqualTo(value(1_000));
            }
        }
    }

    @Test
    void aLeaderWhoseFollowersAreGoneStopsAnsweringLinearizableReadsOnceItsLeaseRanOut() throws Exception {
        try (InProcessGroup group = new InProcessGroup(tmp, 3).withReads(RaftReadMode.LEADER_LEASE)) {
            group.startFounders(3);
            try (RaftKvClient client = RaftKvClient.connect(group.peers(3))) {
                long index = client.put(key(1), value(1));
                group.awaitApplied(index);
                String leader = group.leader();
                for (RaftGroupNode.Peer p : group.peers(3)) {
                    if (!p.id().equals(leader)) {
                        group.stop(p.id());
                    }
                }
                // Ten times the lease (0.9 x Ratis' 150 ms minimum election timeout): a lease that is still
                // honoured now was extended without a majority.
                Thread.sleep(1_500);
                try (RaftKvClient impatient = RaftKvClient.connect(group.peers(3), 500, 2)) {
                    assertThatThrownBy(() -> impatient.get(key(1)))
                            .as("a leader alone must not answer from a lease its followers no longer back")
                            .isInstanceOfAny(java.io.IOException.class, StorageException.class);
                }
            }
        }
    }

    @Test
    void theReadModeIsParsedFromItsCliSpellingAndAnUnknownOneNamesTheChoices() {
        assertThat(RaftReadMode.parse("leader-lease")).isEqualTo(RaftReadMode.LEADER_LEASE);
        assertThat(RaftReadMode.parse("READ_INDEX")).isEqualTo(RaftReadMode.READ_INDEX);
        assertThat(RaftReadMode.LEADER_LEASE.cliName()).isEqualTo("leader-lease");
        assertThatThrownBy(() -> RaftReadMode.parse("lease")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("read-index").hasMessageContaining("leader-lease");
    }
}
