package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;

/**
 * Operating a Raft group through Ratis' group-management and admin APIs: each member's role, term and log
 * positions and the group's configuration ({@code redoubt raft status}), leadership transfer, and membership
 * changes one member at a time ({@code redoubt raft add-peer|remove-peer}, Ratis' {@code setConfiguration}:
 * joint consensus). The peers given to {@link #connect} are where to reach the group; the membership itself is
 * read from the members (the leader's configuration), so it is right after changes even if the list is not.
 *
 * <p>A newcomer must be running before it is added, started with {@code redoubt node start --raft --join}
 * ({@link RaftGroupNode#join}): outside the configuration it waits for the leader instead of campaigning.
 *
 * <p>Not thread-safe: one caller at a time.
 */
public final class RaftAdmin implements AutoCloseable {
    /** A member that does not answer costs at most about two attempts of 3 s in {@link #status()}, never forever. */
    private static final long ASK_ATTEMPT_MILLIS = 3_000;
    private static final int ASK_ATTEMPTS = 2;
    private static final int RECONFIGURE_ATTEMPTS = 5;

    private final List<RaftGroupNode.Peer> peers;
    private final RaftClient client;
    private final Set<String> known = new HashSet<>();
    private final RaftTls tls;

    private RaftAdmin(List<RaftGroupNode.Peer> peers, RaftClient client, RaftTls tls) {
        this.peers = peers;
        this.client = client;
        this.tls = tls;
        peers.forEach(p -> known.add(p.id()));
    }

    public static RaftAdmin connect(List<RaftGroupNode.Peer> peers) {
        return connect(peers, null);
    }

    /** Operating the group of {@code peers}, authenticated with its credential {@code tls} (null: none, loopback only). */
    public static RaftAdmin connect(List<RaftGroupNode.Peer> peers, RaftTls tls) {
        RaftTls.checkAddresses(peers, tls, "Raft admin");
        return new RaftAdmin(peers, client(peers, tls, ASK_ATTEMPT_MILLIS, ASK_ATTEMPTS), tls);
    }

    private static RaftClient client(List<RaftGroupNode.Peer> peers, RaftTls tls, long attemptMillis, int attempts) {
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(attemptMillis, TimeUnit.MILLISECONDS));
        return RaftClient.newBuilder().setRaftGroup(RaftGroupNode.group(peers)).setProperties(properties)
                .setParameters(RaftTls.parameters(tls))
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts,
                        TimeDuration.valueOf(300, TimeUnit.MILLISECONDS)))
                .build();
    }

    /**
     * One member as it reports itself; {@code reachable} false (and -1 figures) when it did not answer;
     * {@code inConfiguration} false for a member the group's configuration no longer (or not yet) holds.
     */
    public record Member(String id, String address, boolean reachable, String role, long term, long commitIndex,
                         long appliedIndex, long lastIndex, String problem, boolean inConfiguration) {
    }

    /**
     * The group as its members report it: every member asked (the peers given, then the configuration's others);
     * the configuration (the leader's, else that of a member that answered, else the peers given); whether a
     * change is under way (joint consensus); and the leader's id (null when none answered as leader).
     */
    public record GroupStatus(List<Member> members, List<RaftGroupNode.Peer> configuration, boolean changing,
                              String leader) {
        public Member member(String id) {
            return members.stream().filter(m -> m.id().equals(id)).findFirst().orElse(null);
        }
    }

    /** Every member's report: the peers given first, in their order, then the configuration's other members. */
    public List<Member> status() {
        return groupStatus().members();
    }

    public GroupStatus groupStatus() {
        Map<String, RaftGroupNode.Peer> asked = new LinkedHashMap<>();
        Map<String, Object> answers = new LinkedHashMap<>(); // GroupInfoReply or the problem (String)
        for (RaftGroupNode.Peer p : peers) {
            asked.put(p.id(), p);
            answers.put(p.id(), ask(p));
        }
        RaftConfigurationProto conf = configuration(answers);
        List<RaftGroupNode.Peer> configuration = conf == null ? peers : toPeers(conf.getPeersList());
        List<RaftGroupNode.Peer> all = new ArrayList<>(configuration);
        if (conf != null) {
            all.addAll(toPeers(conf.getOldPeersList()));
        }
        for (RaftGroupNode.Peer p : all) {
            if (!asked.containsKey(p.id())) {
                asked.put(p.id(), p);
                answers.put(p.id(), ask(p));
            }
        }
        List<Member> members = new ArrayList<>();
        Member leader = null; // a deposed leader that has not heard of its successor reports an older term
        for (RaftGroupNode.Peer p : asked.values()) {
            boolean inConf = configuration.stream().anyMatch(c -> c.id().equals(p.id()));
            Member m = member(p, answers.get(p.id()), inConf);
            members.add(m);
            if ("LEADER".equals(m.role()) && inConf && (leader == null || m.term() > leader.term())) {
                leader = m;
            }
        }
        return new GroupStatus(List.copyOf(members), configuration, conf != null && conf.getOldPeersCount() > 0,
                leader == null ? null : leader.id());
    }

    /** The members of the group's current configuration (see {@link GroupStatus#configuration()}). */
    public List<RaftGroupNode.Peer> configuration() {
        return groupStatus().configuration();
    }

    /**
     * Adds {@code added} to the group and returns the new configuration, once Ratis has committed it (the
     * newcomer caught up first); {@code timeoutMillis} bounds each attempt. Refused with an
     * {@link IllegalArgumentException} when its id or address is a member's, and with a {@link StorageException}
     * when it does not answer (start it with {@code --join} first), when a change is already under way, or when
     * a majority of the old or of the new members would not answer.
     */
    public List<RaftGroupNode.Peer> addPeer(RaftGroupNode.Peer added, long timeoutMillis) {
        GroupStatus status = requireStable();
        List<RaftGroupNode.Peer> next = MembershipChange.add(status.configuration(), added);
        Object answer = ask(added);
        if (!(answer instanceof GroupInfoReply)) {
            throw new StorageException(ErrorCode.INVALID_STATE, added.id() + " at " + MembershipChange.address(added)
                    + " does not answer (" + answer + "): start it first with `redoubt node start --raft --join --id "
                    + added.id() + " --peers <every member, itself included>`, then retry");
        }
        Set<String> reachable = reachable(status);
        reachable.add(added.id());
        MembershipChange.requireMajorities(status.configuration(), next, reachable);
        reconfigure(status.configuration(), next, timeoutMillis);
        return next;
    }

    /**
     * Removes member {@code id} and returns the new configuration, once committed. Refused with an
     * {@link IllegalArgumentException} when it is not a member or is the last one, and with a
     * {@link StorageException} when a change is under way or a majority of the old or of the new members would
     * not answer. The removed member's node keeps running until stopped; stop it, and do not restart it on its
     * directory as a member (add it back with {@code --join} on an empty directory).
     */
    public List<RaftGroupNode.Peer> removePeer(String id, long timeoutMillis) {
        GroupStatus status = requireStable();
        List<RaftGroupNode.Peer> next = MembershipChange.remove(status.configuration(), id);
        MembershipChange.requireMajorities(status.configuration(), next, reachable(status));
        reconfigure(status.configuration(), next, timeoutMillis);
        return next;
    }

    private GroupStatus requireStable() {
        GroupStatus status = groupStatus();
        if (status.members().stream().noneMatch(Member::reachable)) {
            throw new StorageException(ErrorCode.INVALID_STATE, "no member answered: check --peers and that the"
                    + " nodes run (" + status.members().get(0).problem() + ")");
        }
        if (status.changing()) {
            throw new StorageException(ErrorCode.INVALID_STATE, "a membership change is under way (joint"
                    + " consensus): wait until `redoubt raft status` shows it done, then retry");
        }
        return status;
    }

    private static Set<String> reachable(GroupStatus status) {
        Set<String> out = new HashSet<>();
        status.members().stream().filter(Member::reachable).forEach(m -> out.add(m.id()));
        return out;
    }

    /**
     * Ratis' setConfiguration, compare-and-set against {@code current}: a concurrent change makes it fail rather
     * than be overwritten. An attempt that timed out may still have committed; its retry then finds the
     * configuration changed, which is success when the configuration is the one asked for.
     */
    private void reconfigure(List<RaftGroupNode.Peer> current, List<RaftGroupNode.Peer> next, long timeoutMillis) {
        List<RaftGroupNode.Peer> union = new ArrayList<>(current);
        next.stream().filter(p -> current.stream().noneMatch(c -> c.id().equals(p.id()))).forEach(union::add);
        try (RaftClient c = client(union, tls, timeoutMillis, RECONFIGURE_ATTEMPTS)) {
            RaftClientReply reply = c.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
                    .setServersInCurrentConf(current.stream().map(RaftGroupNode.Peer::toRatis).toList())
                    .setServersInNewConf(next.stream().map(RaftGroupNode.Peer::toRatis).toList())
                    .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                    .build());
            if (!reply.isSuccess()) {
                throw new StorageException(ErrorCode.FAILED, "the group did not take the configuration "
                        + MembershipChange.ids(next) + ": " + reply);
            }
        } catch (IOException e) {
            if (sameMembers(configuration(), next)) {
                return;
            }
            throw new StorageException(ErrorCode.FAILED, "the change to " + MembershipChange.ids(next)
                    + " did not complete: " + e.getMessage() + " (see `redoubt raft status`: it may still complete)", e);
        }
    }

    private static boolean sameMembers(List<RaftGroupNode.Peer> a, List<RaftGroupNode.Peer> b) {
        return a.size() == b.size() && a.stream().allMatch(p -> b.stream().anyMatch(q -> q.id().equals(p.id())));
    }

    /** Moves leadership to {@code peerId}, waiting up to {@code timeoutMillis}. */
    public void transferLeader(String peerId, long timeoutMillis) throws IOException {
        if (peers.stream().noneMatch(p -> p.id().equals(peerId))) {
            throw new IllegalArgumentException(peerId + " is not one of the peers " + MembershipChange.ids(peers));
        }
        RaftClientReply reply;
        try {
            reply = client.admin().transferLeadership(RaftPeerId.valueOf(peerId), timeoutMillis);
        } catch (IOException e) {
            throw RaftTlsErrors.explain(e, tls != null);
        }
        if (!reply.isSuccess()) {
            throw new StorageException(ErrorCode.FAILED, "leadership did not move to " + peerId + ": " + reply);
        }
    }

    /**
     * The leader's commit index as the leader reports it now, asking {@code hint}'s idea of the leader first;
     * -1 when no leader answers.
     */
    public long leaderCommitIndex(RaftGroupNode.Peer hint) {
        Object answer = ask(hint);
        if (answer instanceof GroupInfoReply info) {
            if (info.getRoleInfoProto().getRole() == RaftPeerRole.LEADER) {
                return info.getLogInfoProto().getCommitted().getIndex();
            }
            if (info.getRoleInfoProto().hasFollowerInfo()) {
                RaftPeerProto leader = info.getRoleInfoProto().getFollowerInfo().getLeaderInfo().getId();
                String leaderId = leader.getId().toStringUtf8();
                RaftGroupNode.Peer leaderPeer = info.getConf().map(c -> toPeers(c.getPeersList())).orElse(peers).stream()
                        .filter(p -> p.id().equals(leaderId)).findFirst().orElse(null);
                if (leaderPeer != null && ask(leaderPeer) instanceof GroupInfoReply l
                        && l.getRoleInfoProto().getRole() == RaftPeerRole.LEADER) {
                    return l.getLogInfoProto().getCommitted().getIndex();
                }
            }
        }
        GroupStatus status = groupStatus();
        return status.leader() == null ? -1 : status.member(status.leader()).commitIndex();
    }

    /** The member's group info, or a one-line problem when it did not answer. */
    private Object ask(RaftGroupNode.Peer p) {
        if (known.add(p.id())) {
            client.getClientRpc().addRaftPeers(List.of(p.toRatis()));
        }
        try {
            return client.getGroupManagementApi(RaftPeerId.valueOf(p.id())).info(RaftGroupNode.GROUP_ID);
        } catch (IOException | RuntimeException e) {
            String reason = RaftTlsErrors.reason(e, tls != null);
            return e.getMessage() + (reason == null ? "" : ": " + reason);
        }
    }

    private static RaftConfigurationProto configuration(Map<String, Object> answers) {
        RaftConfigurationProto any = null;
        for (Object a : answers.values()) {
            if (a instanceof GroupInfoReply info && info.getConf().isPresent()) {
                if (info.getRoleInfoProto().getRole() == RaftPeerRole.LEADER) {
                    return info.getConf().get();
                }
                if (any == null && info.getConf().get().getPeersCount() > 0) {
                    any = info.getConf().get();
                }
            }
        }
        return any;
    }

    private static Member member(RaftGroupNode.Peer p, Object answer, boolean inConfiguration) {
        String address = MembershipChange.address(p);
        if (answer instanceof GroupInfoReply info) {
            LogInfoProto log = info.getLogInfoProto();
            return new Member(p.id(), address, true, info.getRoleInfoProto().getRole().name(),
                    log.getCommitted().getTerm(), log.getCommitted().getIndex(), log.getApplied().getIndex(),
                    log.getLastEntry().getIndex(), null, inConfiguration);
        }
        return new Member(p.id(), address, false, "UNREACHABLE", -1, -1, -1, -1, String.valueOf(answer), inConfiguration);
    }

    private static List<RaftGroupNode.Peer> toPeers(List<RaftPeerProto> protos) {
        List<RaftGroupNode.Peer> out = new ArrayList<>();
        for (RaftPeerProto proto : protos) {
            String address = proto.getAddress();
            int colon = address.lastIndexOf(':');
            InetSocketAddress at = colon < 0 || !address.substring(colon + 1).matches("[0-9]{1,5}")
                    ? InetSocketAddress.createUnresolved(address, 0) // not ours: Redoubt writes HOST:PORT
                    : new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
            out.add(new RaftGroupNode.Peer(proto.getId().toStringUtf8(), at));
        }
        return List.copyOf(out);
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
