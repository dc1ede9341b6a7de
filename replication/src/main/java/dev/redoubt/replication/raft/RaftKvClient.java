package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import dev.redoubt.engine.KeyValue;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StaleReadException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.ExceptionDependentRetry;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;

/**
 * A client of a Raft group: writes go through the log (acknowledged once committed on a majority and applied
 * by the leader), reads and scans are linearizable queries (ReadIndex on the leader), and stale reads on request
 * go to a chosen member and report their bound. The Ratis client finds the leader and retries on leader changes.
 * Not thread-safe for {@link #getStale} (its admin client is made lazily); the other calls are Ratis' own.
 */
public final class RaftKvClient implements AutoCloseable {
    /** How long a stale read retries a member that has not committed its minimum index yet. */
    static final long STALE_CATCH_UP_MILLIS = 3_000;
    private static final long STALE_RETRY_MILLIS = 50;

    private final List<RaftGroupNode.Peer> peers;
    private final RaftClient client;
    private final RaftTls tls;
    private RaftAdmin admin; // for the bound of stale reads, made on first use

    private RaftKvClient(List<RaftGroupNode.Peer> peers, RaftClient client, RaftTls tls) {
        this.peers = peers;
        this.client = client;
        this.tls = tls;
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
        return new RaftKvClient(peers, RaftClient.newBuilder().setRaftGroup(RaftGroupNode.group(peers))
                .setProperties(properties)
                .setParameters(RaftTls.parameters(tls))
                .setRetryPolicy(retryPolicy(attempts))
                .build(), tls);
    }

    /**
     * Up to {@code attempts} tries 200 ms apart for failures a retry can cure (no leader yet, a leader change, a
     * timeout); none for a refusal by the state machine (a write refused before the log, a stale read below its
     * minimum index), which would only be refused again.
     */
    private static RetryPolicy retryPolicy(int attempts) {
        return ExceptionDependentRetry.newBuilder()
                .setDefaultPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts,
                        TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
                .setExceptionToPolicy(StateMachineException.class, RetryPolicies.noRetry())
                .setMaxAttempts(attempts)
                .build();
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
        return decode(read(RaftCommand.get(key)), QueryAnswer::decodeValue).value();
    }

    /**
     * A stale read of {@code key} from member {@code peerId} (any member, typically a follower), with its bound
     * (see {@link StaleRead}): no leader round trip for the value, which may lag the group's latest writes.
     *
     * <p>{@code minIndex} (0: none) is a floor. Ratis refuses a stale read at once when the member's commit index
     * is below it, and makes it wait when the member has committed but not yet applied it. A follower learns of
     * a commit with the leader's next append or heartbeat, so right after a write it may not have committed it
     * yet: this client therefore retries a refused read for up to {@value #STALE_CATCH_UP_MILLIS} ms, then fails
     * with a {@link StorageException} ({@link ErrorCode#INVALID_STATE}) saying so. Use the index a write returned
     * ({@link #put}) as {@code minIndex} to read your own writes from any member.
     */
    public StaleRead getStale(byte[] key, String peerId, long minIndex) throws IOException {
        RaftGroupNode.Peer member = peers.stream().filter(p -> p.id().equals(peerId)).findFirst().orElseThrow(() ->
                new IllegalArgumentException(peerId + " is not one of the peers " + MembershipChange.ids(peers)));
        Message query = Message.valueOf(RaftCommand.get(key).encode());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STALE_CATCH_UP_MILLIS);
        RaftClientReply reply = null;
        while (reply == null) {
            try {
                reply = call(() -> client.io().sendStaleRead(query, minIndex, RaftPeerId.valueOf(peerId)));
            } catch (StateMachineException e) {
                if (!(e.getCause() instanceof StaleReadException)) {
                    throw e;
                }
                if (System.nanoTime() > deadline) {
                    throw new StorageException(ErrorCode.INVALID_STATE, "member " + peerId + " cannot serve a read at"
                            + " minimum index " + minIndex + ": it had not committed that far after "
                            + STALE_CATCH_UP_MILLIS + " ms (" + e.getCause().getMessage() + "). Lower the minimum,"
                            + " read from another member, or read linearizably", e);
                }
                pause();
            }
        }
        QueryAnswer.Value answer = decode(checked(reply, "the stale read from " + peerId), QueryAnswer::decodeValue);
        long leaderCommit = admin().leaderCommitIndex(member);
        long lag = leaderCommit < 0 ? -1 : Math.max(0, leaderCommit - answer.appliedIndex());
        return new StaleRead(answer.value(), peerId, answer.appliedIndex(), leaderCommit, lag);
    }

    private static void pause() throws InterruptedIOException {
        try {
            Thread.sleep(STALE_RETRY_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a member to commit a stale read's minimum index");
        }
    }

    /**
     * One linearizable page of the keys in {@code [from, to)} (null bounds: unbounded), at most {@code maxEntries}
     * (1..{@value RaftCommand#MAX_SCAN_ENTRIES}) and about 1 MiB; {@link QueryAnswer.Page#more()} says whether to
     * ask again after its last key.
     */
    public QueryAnswer.Page scanPage(byte[] from, byte[] to, int maxEntries) throws IOException {
        return decode(read(RaftCommand.scan(from == null ? new byte[0] : from, to, maxEntries)), QueryAnswer::decodePage);
    }

    /**
     * The keys in {@code [from, to)}, at most {@code limit}, page by page ({@link #scanPage}). Each page is a
     * linearizable read of its own; the pages are separate reads, so a write between two pages shows in the later
     * one only (the scan is not one point-in-time snapshot). The iterator throws {@link UncheckedIOException}
     * when a page fails.
     */
    public Iterator<KeyValue> scan(byte[] from, byte[] to, long limit) {
        return new RaftScanIterator(this, from, to, limit);
    }

    private ByteBuffer read(RaftCommand query) throws IOException {
        return checked(call(() -> client.io().sendReadOnly(Message.valueOf(query.encode()))), "the read");
    }

    private static ByteBuffer checked(RaftClientReply reply, String what) {
        if (!reply.isSuccess()) {
            throw new StorageException(ErrorCode.FAILED, "the Raft group did not answer " + what + ": " + reply);
        }
        return reply.getMessage().getContent().asReadOnlyByteBuffer();
    }

    private static <T> T decode(ByteBuffer answer, Function<ByteBuffer, T> decoder) {
        try {
            return decoder.apply(answer);
        } catch (IllegalArgumentException e) {
            throw new StorageException(ErrorCode.CORRUPTION, "a malformed answer from the Raft group: " + e.getMessage(), e);
        }
    }

    private RaftAdmin admin() {
        if (admin == null) {
            admin = RaftAdmin.connect(peers, tls);
        }
        return admin;
    }

    /** A Ratis call whose failure, when the credential is the likely cause, says so ({@link RaftTlsErrors}). */
    private RaftClientReply call(RatisCall call) throws IOException {
        try {
            return call.run();
        } catch (IOException e) {
            throw RaftTlsErrors.explain(e, tls != null);
        }
    }

    private interface RatisCall {
        RaftClientReply run() throws IOException;
    }

    @Override
    public void close() throws IOException {
        try (RaftClient c = client; RaftAdmin a = admin) {
            // both closed
        }
    }
}
