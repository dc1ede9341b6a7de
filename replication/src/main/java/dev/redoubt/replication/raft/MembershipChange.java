package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The checks and the arithmetic of one membership change (one member added or removed at a time), before it is
 * handed to Ratis' {@code setConfiguration}. Ratis runs the change as joint consensus: the leader first makes a
 * new member catch up, then commits the joint configuration (a majority of the old and of the new members), then
 * the new one. So a change is refused here when either configuration would lack a majority of members that
 * answer: the change could not commit, and the group would stop taking writes until they return.
 */
final class MembershipChange {
    private MembershipChange() {
    }

    /** {@code current} plus {@code added}; an {@link IllegalArgumentException} if its id or address is taken. */
    static List<RaftGroupNode.Peer> add(List<RaftGroupNode.Peer> current, RaftGroupNode.Peer added) {
        for (RaftGroupNode.Peer p : current) {
            if (p.id().equals(added.id())) {
                throw new IllegalArgumentException(added.id() + " is already a member (at " + address(p)
                        + "); the members are " + ids(current) + ". Choose a new id, or remove " + added.id() + " first");
            }
            if (address(p).equals(address(added))) {
                throw new IllegalArgumentException(address(added) + " is already the address of member " + p.id());
            }
        }
        List<RaftGroupNode.Peer> next = new ArrayList<>(current);
        next.add(added);
        return List.copyOf(next);
    }

    /** {@code current} without {@code id}; an {@link IllegalArgumentException} if it is not a member or the last. */
    static List<RaftGroupNode.Peer> remove(List<RaftGroupNode.Peer> current, String id) {
        List<RaftGroupNode.Peer> next = current.stream().filter(p -> !p.id().equals(id)).toList();
        if (next.size() == current.size()) {
            throw new IllegalArgumentException(id + " is not a member; the members are " + ids(current));
        }
        if (next.isEmpty()) {
            throw new IllegalArgumentException(id + " is the last member: a group cannot be empty (stop its node"
                    + " instead to retire the group)");
        }
        return next;
    }

    /**
     * Refuses (a {@link StorageException} with {@link ErrorCode#INVALID_STATE}) unless a majority of both
     * {@code current} and {@code next} answer, i.e. are in {@code reachable}.
     */
    static void requireMajorities(List<RaftGroupNode.Peer> current, List<RaftGroupNode.Peer> next, Set<String> reachable) {
        requireMajority("now", current, reachable);
        requireMajority("after the change", next, reachable);
    }

    private static void requireMajority(String when, List<RaftGroupNode.Peer> members, Set<String> reachable) {
        List<String> up = members.stream().map(RaftGroupNode.Peer::id).filter(reachable::contains).toList();
        int majority = members.size() / 2 + 1;
        if (up.size() < majority) {
            List<String> down = members.stream().map(RaftGroupNode.Peer::id).filter(id -> !reachable.contains(id)).toList();
            throw new StorageException(ErrorCode.INVALID_STATE, "refusing the change: " + when + " the group has "
                    + members.size() + " members " + ids(members) + " and needs " + majority + " of them to commit,"
                    + " but only " + up.size() + " answer " + up + " (" + down + " do not). A change commits on a"
                    + " majority of the old and of the new members (joint consensus), so it would stall the group."
                    + " Bring " + down + " back first, or remove a member that does not answer instead");
        }
    }

    static String ids(List<RaftGroupNode.Peer> peers) {
        return peers.stream().map(RaftGroupNode.Peer::id).collect(Collectors.joining(", ", "[", "]"));
    }

    static String address(RaftGroupNode.Peer p) {
        return p.address().getHostString() + ":" + p.address().getPort();
    }
}
