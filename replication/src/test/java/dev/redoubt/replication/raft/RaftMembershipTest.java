package dev.redoubt.replication.raft;

import static dev.redoubt.replication.raft.InProcessGroup.key;
import static dev.redoubt.replication.raft.InProcessGroup.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.Await;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes through Ratis' setConfiguration with members in this JVM: a newcomer started with join is
 * admitted and catches up, a member is removed, the group keeps committing and reading linearizably, status
 * reports the configuration, a restarted newcomer is a full member; changes that cannot work are refused with
 * the reason.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RaftMembershipTest {
    @TempDir
    Path tmp;

    @Test
    void aJoiningMemberCatchesUpAndARemovedOneLeavesWhileTheGroupKeepsServing() throws Exception {
        try (InProcessGroup g = new InProcessGroup(tmp, 4)) {
            g.startFounders(3);
            List<RaftGroupNode.Peer> founders = g.peers(3);
            long last = 0;
            try (RaftKvClient client = RaftKvClient.connect(founders)) {
                for (int i = 0; i < 100; i++) {
                    last = client.put(key(i), value(i));
                }
            }
            RaftGroupNode newcomer = g.join("n3");
            List<RaftGroupNode.Peer> withNewcomer;
            try (RaftAdmin admin = RaftAdmin.connect(founders)) {
                withNewcomer = admin.addPeer(g.peer("n3"), 30_000);
            }
            assertThat(withNewcomer).extracting(RaftGroupNode.Peer::id).containsExactly("n0", "n1", "n2", "n3");
            long written = last;
            Await.until(() -> newcomer.stateMachine().appliedIndex() >= written, "the newcomer caught up");
            for (int i = 0; i < 100; i++) {
                assertThat(newcomer.stateMachine().db().get(RaftKeySpace.stored(key(i)))).as("key %d", i).isEqualTo(value(i));
            }

            String removed = g.follower(founders);
            List<RaftGroupNode.Peer> remaining;
            try (RaftAdmin admin = RaftAdmin.connect(withNewcomer)) {
                remaining = admin.removePeer(removed, 30_000);
            }
            g.stop(removed);
            assertThat(remaining).extracting(RaftGroupNode.Peer::id).hasSize(3).doesNotContain(removed).contains("n3");

            try (RaftKvClient client = RaftKvClient.connect(remaining)) {
                for (int i = 100; i < 150; i++) {
                    last = client.put(key(i), value(i));
                }
                for (int i = 0; i < 150; i += 7) {
                    assertThat(client.get(key(i))).as("key %d", i).isEqualTo(value(i));
                }
            }
            long after = last;
            Await.until(() -> newcomer.stateMachine().appliedIndex() >= after, "the newcomer applies new writes");

            // Asked through the founders' list, status still finds the newcomer: the membership comes from the group.
            try (RaftAdmin admin = RaftAdmin.connect(founders)) {
                RaftAdmin.GroupStatus status = admin.groupStatus();
                assertThat(status.configuration()).extracting(RaftGroupNode.Peer::id)
                        .containsExactlyInAnyOrderElementsOf(remaining.stream().map(RaftGroupNode.Peer::id).toList());
                assertThat(status.changing()).isFalse();
                assertThat(status.leader()).isNotNull().isNotEqualTo(removed);
                assertThat(status.member("n3").reachable()).isTrue();
                assertThat(status.member("n3").inConfiguration()).isTrue();
                assertThat(status.member(removed).inConfiguration()).isFalse();
            }

            // Restarted the way it first started (join), the former newcomer recovers its configuration from its
            // log: it votes, so the two members left after the leader stops can elect a leader and commit.
            g.stop("n3");
            g.join("n3");
            String leader = g.leader();
            g.stop(leader.equals("n3") ? g.follower(remaining) : leader);
            try (RaftKvClient client = RaftKvClient.connect(remaining)) {
                client.put(key(150), value(150));
                assertThat(client.get(key(150))).isEqualTo(value(150));
            }
        }
    }

    @Test
    void changesThatCannotWorkAreRefusedWithTheReason() throws Exception {
        try (InProcessGroup g = new InProcessGroup(tmp, 4)) {
            g.startFounders(3);
            try (RaftAdmin admin = RaftAdmin.connect(g.peers(3))) {
                RaftGroupNode.Peer sameId = new RaftGroupNode.Peer("n1", new InetSocketAddress("127.0.0.1", 1));
                assertThatThrownBy(() -> admin.addPeer(sameId, 10_000))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already a member");
                assertThatThrownBy(() -> admin.removePeer("n9", 10_000))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a member");
                assertThatThrownBy(() -> admin.addPeer(g.peer("n3"), 10_000)) // never started
                        .isInstanceOf(StorageException.class).hasMessageContaining("does not answer")
                        .hasMessageContaining("--join");

                String down = g.follower(g.peers(3));
                g.stop(down);
                String up = g.peers(3).stream().map(RaftGroupNode.Peer::id).filter(id -> !id.equals(down)).findFirst().orElseThrow();
                assertThatThrownBy(() -> admin.removePeer(up, 10_000))
                        .isInstanceOf(StorageException.class).hasMessageContaining("majority").hasMessageContaining(down);
                assertThat(admin.configuration()).hasSize(3);
            }
        }
    }
}
