package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.StorageException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rules of one membership change, without a group. */
class MembershipChangeTest {
    private static RaftGroupNode.Peer peer(String id, int port) {
        return new RaftGroupNode.Peer(id, new InetSocketAddress("127.0.0.1", port));
    }

    private static final List<RaftGroupNode.Peer> THREE = List.of(peer("a", 1), peer("b", 2), peer("c", 3));

    @Test
    void addingAppendsANewIdAtANewAddress() {
        assertThat(MembershipChange.add(THREE, peer("d", 4))).extracting(RaftGroupNode.Peer::id).containsExactly("a", "b", "c", "d");
        assertThatThrownBy(() -> MembershipChange.add(THREE, peer("b", 9))).hasMessageContaining("already a member");
        assertThatThrownBy(() -> MembershipChange.add(THREE, peer("d", 2))).hasMessageContaining("already the address of member b");
    }

    @Test
    void removingTheLastMemberOrAStrangerIsRefused() {
        assertThat(MembershipChange.remove(THREE, "b")).extracting(RaftGroupNode.Peer::id).containsExactly("a", "c");
        assertThatThrownBy(() -> MembershipChange.remove(THREE, "z")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a member").hasMessageContaining("[a, b, c]");
        assertThatThrownBy(() -> MembershipChange.remove(List.of(peer("a", 1)), "a"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("last member");
    }

    @Test
    void aChangeNeedsAnsweringMajoritiesOfTheOldAndTheNewMembers() {
        List<RaftGroupNode.Peer> withoutB = MembershipChange.remove(THREE, "b");
        MembershipChange.requireMajorities(THREE, MembershipChange.remove(THREE, "c"), Set.of("a", "b")); // c is down: fine
        assertThatThrownBy(() -> MembershipChange.requireMajorities(THREE, withoutB, Set.of("a", "b")))
                .isInstanceOf(StorageException.class).hasMessageContaining("after the change").hasMessageContaining("[c]");
        assertThatThrownBy(() -> MembershipChange.requireMajorities(THREE, MembershipChange.add(THREE, peer("d", 4)), Set.of("a", "d")))
                .isInstanceOf(StorageException.class).hasMessageContaining("now");
    }
}
