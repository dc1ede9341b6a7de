package dev.redoubt.replication.failover;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftTls;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * Proposes changes to a pair's primary record and reads it, through the failover group's leader (linearizable).
 * A call gives up after {@code attempts} tries of {@code attemptMillis} each: the caller (the lease keeper)
 * decides what a failure means, usually "no majority right now".
 */
public final class FailoverGroupClient implements AutoCloseable {
    private final RaftClient client;

    private FailoverGroupClient(RaftClient client) {
        this.client = client;
    }

    public static FailoverGroupClient connect(List<RaftGroupNode.Peer> peers, RaftTls tls, long attemptMillis,
                                              int attempts) {
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(attemptMillis, TimeUnit.MILLISECONDS));
        return new FailoverGroupClient(RaftClient.newBuilder().setRaftGroup(FailoverGroupMember.group(peers))
                .setProperties(properties)
                .setParameters(tls == null ? new org.apache.ratis.conf.Parameters() : tls.parameters())
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts,
                        TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                .build());
    }

    /** Commits {@code command}; the outcome says whether the record took it, and the record after it. */
    public PrimaryRecord.Outcome propose(PrimaryRecordCommand command) throws IOException {
        RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(command.encode())));
        return decode(reply, "proposing " + command);
    }

    /** The record as the group has committed it (a linearizable read). */
    public PrimaryRecord read() throws IOException {
        return decode(client.io().sendReadOnly(Message.valueOf(ByteString.EMPTY)), "reading the primary record").record();
    }

    /**
     * The record as member {@code memberId} has applied it (a stale read served by that member alone, whether or
     * not it leads): what the witness sees, for {@code node status}.
     */
    public PrimaryRecord readFrom(String memberId) throws IOException {
        return decode(client.io().sendStaleRead(Message.valueOf(ByteString.EMPTY), 0, RaftPeerId.valueOf(memberId)),
                "reading the primary record from " + memberId).record();
    }

    /**
     * Asks the group's leader to step down, so the next leader starts its replication to every member afresh (the
     * cure for a member its leader stopped replicating to: {@link dev.redoubt.replication.raft.LagWatch}).
     */
    public void stepDownLeader(long timeoutMillis) throws IOException {
        RaftClientReply reply = client.admin().transferLeadership(null, timeoutMillis);
        if (!reply.isSuccess()) {
            throw new IOException("the failover group's leader did not step down: " + reply);
        }
    }

    private static PrimaryRecord.Outcome decode(RaftClientReply reply, String what) {
        if (!reply.isSuccess()) {
            throw new StorageException(ErrorCode.FAILED, "the failover group did not answer " + what + ": " + reply);
        }
        try {
            return PrimaryRecordStateMachine.decodeReply(reply.getMessage().getContent().asReadOnlyByteBuffer());
        } catch (IllegalArgumentException e) {
            throw new StorageException(ErrorCode.CORRUPTION, "a malformed answer from the failover group: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
