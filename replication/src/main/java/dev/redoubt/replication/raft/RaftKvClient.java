package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import dev.redoubt.engine.KeyValue;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
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
 *
 * <p>Writes are batched and pipelined ({@link RaftWriteBatcher}): the writes of every thread that are waiting when
 * an entry may be sent travel as one Raft entry, several entries in flight. Clients of one process connected to
 * the same group with the same credential object and timeouts share one Ratis client (one connection to each
 * member, and one batcher), as application threads that each open a client would otherwise each pay a full
 * commit round per write; the connection closes with the last of them. {@link #putAsync} and
 * {@link #deleteAsync} let one thread keep many writes in flight.
 *
 * <p>Thread-safe, except {@link #getStale} (its admin client is made lazily).
 */
public final class RaftKvClient implements AutoCloseable {
    /** How long a stale read retries a member that has not committed its minimum index yet. */
    static final long STALE_CATCH_UP_MILLIS = 3_000;
    private static final long STALE_RETRY_MILLIS = 50;
    /** Open shared connections by what they were opened with; guarded by itself. */
    private static final Map<ConnectionKey, SharedConnection> CONNECTIONS = new HashMap<>();

    private final List<RaftGroupNode.Peer> peers;
    private final SharedConnection connection;
    private final RaftClient client;
    private final RaftTls tls;
    private RaftAdmin admin; // for the bound of stale reads, made on first use
    private boolean closed;

    private RaftKvClient(List<RaftGroupNode.Peer> peers, SharedConnection connection, RaftTls tls) {
        this.peers = peers;
        this.connection = connection;
        this.client = connection.client;
        this.tls = tls;
    }

    /** What makes two clients share a connection: the same peers, credential object and timeouts. */
    private record ConnectionKey(List<RaftGroupNode.Peer> peers, RaftTls tls, long attemptMillis, int attempts) {
        @Override
        public boolean equals(Object o) {
            return o instanceof ConnectionKey k && k.peers.equals(peers) && k.tls == tls
                    && k.attemptMillis == attemptMillis && k.attempts == attempts;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(peers, System.identityHashCode(tls), attemptMillis, attempts);
        }
    }

    /**
     * One Ratis client for reads and one write batcher (with a Ratis client of its own, replaced after a failure),
     * and how many {@link RaftKvClient}s use them (under CONNECTIONS).
     */
    private static final class SharedConnection {
        final ConnectionKey key;
        final RaftClient client;
        final RaftWriteBatcher batcher;
        int users;

        SharedConnection(ConnectionKey key, Supplier<RaftClient> newClient) {
            this.key = key;
            this.client = newClient.get();
            this.batcher = RaftWriteBatcher.over(newClient);
        }
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
        ConnectionKey key = new ConnectionKey(List.copyOf(peers), tls, attemptMillis, attempts);
        synchronized (CONNECTIONS) {
            SharedConnection c = CONNECTIONS.get(key);
            if (c == null) {
                RaftProperties properties = new RaftProperties();
                RaftClientConfigKeys.Rpc.setRequestTimeout(properties,
                        TimeDuration.valueOf(attemptMillis, TimeUnit.MILLISECONDS));
                c = new SharedConnection(key, () -> RaftClient.newBuilder().setRaftGroup(RaftGroupNode.group(peers))
                        .setProperties(properties)
                        .setParameters(RaftTls.parameters(tls))
                        .setRetryPolicy(retryPolicy(attempts))
                        .build());
                CONNECTIONS.put(key, c);
            }
            c.users++;
            return new RaftKvClient(key.peers(), c, tls);
        }
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
        return await(putAsync(key, value));
    }

    public long delete(byte[] key) throws IOException {
        return await(deleteAsync(key));
    }

    /**
     * Queues a put and returns at once (unless {@value RaftWriteBatcher#MAX_PENDING_WRITES} writes already wait);
     * the future gives the Raft index of the committed entry. Writes commit in the order they were queued. Chain
     * further writes with the future's {@code *Async} methods: its plain callbacks run on a Ratis thread, which a
     * write queued from there could hold up.
     */
    public CompletableFuture<Long> putAsync(byte[] key, byte[] value) {
        return connection.batcher.submit(RaftCommand.put(key, value));
    }

    /** As {@link #putAsync}, for a delete. */
    public CompletableFuture<Long> deleteAsync(byte[] key) {
        return connection.batcher.submit(RaftCommand.delete(key));
    }

    private long await(CompletableFuture<Long> index) throws IOException {
        try {
            return index.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a write to commit (it may still commit)");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw RaftTlsErrors.explain(io, tls != null);
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new StorageException(ErrorCode.FAILED, "the Raft group did not commit the write: " + cause, cause);
        }
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

    /** Closes this client; the shared connection closes with the last client that uses it. */
    @Override
    public void close() throws IOException {
        RaftClient last = null;
        synchronized (CONNECTIONS) {
            if (closed) {
                return;
            }
            closed = true;
            if (--connection.users == 0) {
                CONNECTIONS.remove(connection.key);
                last = connection.client;
            }
        }
        if (last != null) {
            connection.batcher.close();
        }
        try (RaftClient c = last; RaftAdmin a = admin) {
            // both closed (when not null)
        }
    }
}
