package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;

/**
 * A client of a Raft group: writes go through the log (acknowledged once committed on a majority and applied
 * by the leader), reads are linearizable queries (ReadIndex on the leader). The Ratis client finds the leader
 * and retries on leader changes.
 */
public final class RaftKvClient implements AutoCloseable {
    private final RaftClient client;
    private final boolean withCredential;

    private RaftKvClient(RaftClient client, boolean withCredential) {
        this.client = client;
        this.withCredential = withCredential;
    }

    /** A client whose calls give up after about a minute (20 attempts of up to 3 s, 200 ms apart). */
    public static RaftKvClient connect(List<RaftGroupNode.Peer> peers) {
        return connect(peers, null, 3_000, 20);
    }

    /** As above, authenticated with the group credential {@code tls} (null: none, loopback only). */
    public static RaftKvClient connect(List<RaftGroupNode.Peer> peers, RaftTls tls) {
        return connect(peers, tls, 3_000, 20);
    }

    /** As below, without a credential: loopback only. */
    public static RaftKvClient connect(List<RaftGroupNode.Peer> peers, long attemptMillis, int attempts) {
        return connect(peers, null, attemptMillis, attempts);
    }

    /**
     * A client whose every attempt times out after {@code attemptMillis} and whose calls give up after
     * {@code attempts}: a write that gives up may still commit (its outcome is unknown), never twice (Ratis'
     * retry cache).
     */
    public static RaftKvClient connect(List<RaftGroupNode.Peer> peers, RaftTls tls, long attemptMillis, int attempts) {
        RaftTls.checkAddresses(peers, tls, "Raft client");
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(attemptMillis, TimeUnit.MILLISECONDS));
        return new RaftKvClient(RaftClient.newBuilder().setRaftGroup(RaftGroupNode.group(peers))
                .setProperties(properties)
                .setParameters(RaftTls.parameters(tls))
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts,
                        TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
                .build(), tls != null);
    }

    /** Puts and returns the Raft index of the committed entry. */
    public long put(byte[] key, byte[] value) throws IOException {
        return write(RaftCommand.put(key, value));
    }

    public long delete(byte[] key) throws IOException {
        return write(RaftCommand.delete(key));
    }

    private long write(RaftCommand command) throws IOException {
        RaftClientReply reply = call(() -> client.io().send(Message.valueOf(command.encode())));
        if (!reply.isSuccess()) {
            throw new StorageException(ErrorCode.FAILED, "the Raft group did not commit the write: " + reply);
        }
        return reply.getLogIndex();
    }

    /** A linearizable read: the value, or null when absent. */
    public byte[] get(byte[] key) throws IOException {
        RaftClientReply reply = call(() -> client.io().sendReadOnly(Message.valueOf(RaftCommand.get(key).encode())));
        if (!reply.isSuccess()) {
            throw new StorageException(ErrorCode.FAILED, "the Raft group did not answer the read: " + reply);
        }
        ByteBuffer b = reply.getMessage().getContent().asReadOnlyByteBuffer();
        if (b.remaining() < 1) {
            throw new StorageException(ErrorCode.CORRUPTION, "an empty answer to a read");
        }
        if (b.get() == 0) {
            return null;
        }
        byte[] value = new byte[b.remaining()];
        b.get(value);
        return value;
    }

    /** A Ratis call whose failure, when the credential is the likely cause, says so ({@link RaftTlsErrors}). */
    private RaftClientReply call(RatisCall call) throws IOException {
        try {
            return call.run();
        } catch (IOException e) {
            throw RaftTlsErrors.explain(e, withCredential);
        }
    }

    private interface RatisCall {
        RaftClientReply run() throws IOException;
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
