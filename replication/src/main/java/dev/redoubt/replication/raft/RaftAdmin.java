package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Operating a Raft group: each member's role, term and log positions ({@code redoubt raft status}) and
 * leadership transfer ({@code redoubt raft transfer-leader}), through Ratis' group-management API.
 */
public final class RaftAdmin implements AutoCloseable {
    private final List<RaftGroupNode.Peer> peers;
    private final RaftClient client;
    private final boolean withCredential;

    private RaftAdmin(List<RaftGroupNode.Peer> peers, RaftClient client, boolean withCredential) {
        this.peers = peers;
        this.client = client;
        this.withCredential = withCredential;
    }

    public static RaftAdmin connect(List<RaftGroupNode.Peer> peers) {
        return connect(peers, null);
    }

    /** Operating the group of {@code peers}, authenticated with its credential {@code tls} (null: none, loopback only). */
    public static RaftAdmin connect(List<RaftGroupNode.Peer> peers, RaftTls tls) {
        RaftTls.checkAddresses(peers, tls, "Raft admin");
        return new RaftAdmin(peers, RaftClient.newBuilder().setRaftGroup(RaftGroupNode.group(peers))
                .setProperties(new RaftProperties()).setParameters(RaftTls.parameters(tls)).build(), tls != null);
    }

    /** One member as it reports itself; {@code reachable} false (and -1 figures) when it did not answer. */
    public record Member(String id, String address, boolean reachable, String role, long term, long commitIndex,
                         long appliedIndex, long lastIndex, String problem) {
    }

    /** Every member's report, in the order of the peer list. */
    public List<Member> status() {
        List<Member> out = new ArrayList<>();
        for (RaftGroupNode.Peer p : peers) {
            try {
                GroupInfoReply info = client.getGroupManagementApi(RaftPeerId.valueOf(p.id())).info(RaftGroupNode.GROUP_ID);
                LogInfoProto log = info.getLogInfoProto();
                out.add(new Member(p.id(), p.address().getHostString() + ":" + p.address().getPort(), true,
                        info.getRoleInfoProto().getRole().name(), log.getCommitted().getTerm(),
                        log.getCommitted().getIndex(), log.getApplied().getIndex(), log.getLastEntry().getIndex(), null));
            } catch (IOException | RuntimeException e) {
                out.add(new Member(p.id(), p.address().getHostString() + ":" + p.address().getPort(), false, "UNREACHABLE",
                        -1, -1, -1, -1, e.getMessage() + reason(e)));
            }
        }
        return out;
    }

    /** Moves leadership to {@code peerId}, waiting up to {@code timeoutMillis}. */
    public void transferLeader(String peerId, long timeoutMillis) throws IOException {
        if (peers.stream().noneMatch(p -> p.id().equals(peerId))) {
            throw new IllegalArgumentException(peerId + " is not one of the peers " + peers);
        }
        RaftClientReply reply;
        try {
            reply = client.admin().transferLeadership(RaftPeerId.valueOf(peerId), timeoutMillis);
        } catch (IOException e) {
            throw RaftTlsErrors.explain(e, withCredential);
        }
        if (!reply.isSuccess()) {
            throw new StorageException(ErrorCode.FAILED, "leadership did not move to " + peerId + ": " + reply);
        }
    }

    private String reason(Throwable e) {
        String reason = RaftTlsErrors.reason(e, withCredential);
        return reason == null ? "" : ": " + reason;
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
