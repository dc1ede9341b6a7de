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

    private RaftAdmin(List<RaftGroupNode.Peer> peers, RaftClient client) {
        this.peers = peers;
        this.client = client;
    }

    public static RaftAdmin connect(List<RaftGroupNode.Peer> peers) {
        return new RaftAdmin(peers, RaftClient.newBuilder().setRaftGroup(RaftGroupNode.group(peers))
                .setProperties(new RaftProperties()).build());
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
                        -1, -1, -1, -1, String.valueOf(e.getMessage())));
            }
        }
        return out;
    }

    /** Moves leadership to {@code peerId}, waiting up to {@code timeoutMillis}. */
    public void transferLeader(String peerId, long timeoutMillis) throws IOException {
        if (peers.stream().noneMatch(p -> p.id().equals(peerId))) {
            throw new IllegalArgumentException(peerId + " is not one of the peers " + peers);
        }
        RaftClientReply reply = client.admin().transferLeadership(RaftPeerId.valueOf(peerId), timeoutMillis);
        if (!reply.isSuccess()) {
            throw new StorageException(ErrorCode.FAILED, "leadership did not move to " + peerId + ": " + reply);
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
