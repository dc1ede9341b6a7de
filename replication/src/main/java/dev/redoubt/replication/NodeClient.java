package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.KeyValue;
import dev.redoubt.replication.raft.RaftTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A small client of a node's port: authenticated like a peer, one request at a time per client (open one per
 * thread for concurrency).
 *
 * <pre>{@code
 * try (NodeClient c = NodeClient.connect(new InetSocketAddress("127.0.0.1", 7400), secret, 2_000)) {
 *     WriteReceipt r = c.put(key, value, CommitLevel.REMOTE_DURABLE);
 *     byte[] v = c.get(key);
 * }
 * }</pre>
 *
 * <p>Errors come back as the node raised them: {@link StorageException} with its {@link ErrorCode}, and
 * {@link ReplicationTimeoutException} with the receipt of what the write reached.
 */
public final class NodeClient implements AutoCloseable {
    private final FrameChannel channel;
    private final FrameBuilder out = new FrameBuilder();
    private final Handshake.Welcome welcome;
    private long nextId = 1;

    private NodeClient(FrameChannel channel, Handshake.Welcome welcome) {
        this.channel = channel;
        this.welcome = welcome;
    }

    /** Connects and authenticates; {@code timeoutMillis} bounds the connect and each later response. */
    public static NodeClient connect(InetSocketAddress node, PeerSecret secret, int timeoutMillis) throws IOException {
        return connect(node, secret, null, timeoutMillis);
    }

    /** As above, over mutual TLS with the group credential {@code tls} (null: plain TCP). */
    public static NodeClient connect(InetSocketAddress node, PeerSecret secret, RaftTls tls, int timeoutMillis)
            throws IOException {
        Socket socket = PairSockets.connect(node, timeoutMillis, tls);
        try {
            FrameChannel channel = new FrameChannel(socket);
            Handshake.Welcome w = Handshake.asClient(channel, secret, Handshake.PURPOSE_CLIENT);
            channel.receiveTimeout(timeoutMillis);
            return new NodeClient(channel, w);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The node's epoch when this client connected. */
    public long epoch() {
        return welcome.epoch();
    }

    /** The node's role when this client connected (null: a code this client does not know). */
    public Node.Role role() {
        return switch (welcome.role()) {
            case Handshake.ROLE_PRIMARY -> Node.Role.PRIMARY;
            case Handshake.ROLE_BACKUP -> Node.Role.BACKUP;
            case Handshake.ROLE_FENCED -> Node.Role.FENCED;
            default -> null;
        };
    }

    public WriteReceipt put(byte[] key, byte[] value, CommitLevel level) throws IOException {
        return write(ClientSession.OP_PUT, key, value, level);
    }

    /** A put at the node's default commit level. */
    public WriteReceipt put(byte[] key, byte[] value) throws IOException {
        return write(ClientSession.OP_PUT, key, value, null);
    }

    public WriteReceipt delete(byte[] key, CommitLevel level) throws IOException {
        return write(ClientSession.OP_DELETE, key, null, level);
    }

    /** The value, or null when absent. */
    public byte[] get(byte[] key) throws IOException {
        Response r = call(ClientSession.OP_GET, ClientSession.DEFAULT_LEVEL, key, null, null, 0);
        return r.status == ClientSession.STATUS_ABSENT ? null : r.entries.get(0).value();
    }

    /**
     * The value, or null when absent, read at {@code level} ({@link Node#get(byte[], CommitLevel)}: a remote level
     * is answered by the primary only once all it could see is on the backup).
     */
    public byte[] get(byte[] key, CommitLevel level) throws IOException {
        Response r = call(ClientSession.OP_GET, level.ordinal(), key, null, null, 0);
        return r.status == ClientSession.STATUS_ABSENT ? null : r.entries.get(0).value();
    }

    /** Up to {@code limit} entries (at most {@value ClientSession#MAX_SCAN_ENTRIES}) of [from, to); null = unbounded. */
    public List<KeyValue> scan(byte[] from, byte[] to, int limit) throws IOException {
        return call(ClientSession.OP_SCAN, ClientSession.DEFAULT_LEVEL, from, null, to, limit).entries;
    }

    /** The node's status as JSON (what {@code redoubt node status --json} prints). */
    public String statusJson() throws IOException {
        return call(ClientSession.OP_STATUS, ClientSession.DEFAULT_LEVEL, null, null, null, 0).message;
    }

    /** Promotes the node (a backup) to primary; returns its message naming the new epoch and fork LSN. */
    public String promote() throws IOException {
        return call(ClientSession.OP_PROMOTE, ClientSession.DEFAULT_LEVEL, null, null, null, 0).message;
    }

    /** Tells the node that epoch {@code epoch} has begun elsewhere (a new primary deposing it). */
    public void fence(long epoch) throws IOException {
        channel.send(out.start(FrameType.FENCE).u64(epoch));
        read(0);
    }

    private WriteReceipt write(int op, byte[] key, byte[] value, CommitLevel level) throws IOException {
        Response r = call(op, level == null ? ClientSession.DEFAULT_LEVEL : level.ordinal(), key, value, null, 0);
        return new WriteReceipt(r.lsn, r.reached, r.epoch);
    }

    record Response(int status, long lsn, WriteReceipt.Reached reached, String message, List<KeyValue> entries,
                    long epoch) {
    }

    private Response call(int op, int level, byte[] key, byte[] value, byte[] end, int limit) throws IOException {
        long id = nextId++;
        channel.send(out.start(FrameType.REQUEST).u64(id).u8(op).u8(level).blob(key).blob(value).blob(end).u32(limit));
        return read(id);
    }

    private Response read(long id) throws IOException {
        return parseResponse(channel.receive(), id);
    }

    /** Decodes a RESPONSE to request {@code id}; a node's error becomes the exception it reported. */
    static Response parseResponse(Frame frame, long id) throws ProtocolException {
        Frame f = frame.expect(FrameType.RESPONSE);
        long got = f.u64();
        int status = f.u8();
        long lsn = f.u64();
        int reachedCode = f.u8();
        int errorCode = f.u16();
        String message = f.str();
        int n = f.u32();
        if (n < 0 || n > ClientSession.MAX_SCAN_ENTRIES) {
            throw new ProtocolException("a response with " + n + " entries");
        }
        List<KeyValue> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            entries.add(new KeyValue(f.blob(Limits.MAX_KEY_BYTES), f.blob(Limits.MAX_VALUE_BYTES)));
        }
        long epoch = f.more() ? f.u64() : -1; // absent from nodes of an older build
        f.end();
        if (got != id) {
            throw new ProtocolException("response " + got + " to request " + id);
        }
        WriteReceipt.Reached[] levels = WriteReceipt.Reached.values();
        WriteReceipt.Reached reached = reachedCode < levels.length ? levels[reachedCode] : null;
        if (status == ClientSession.STATUS_ERROR) {
            ErrorCode[] codes = ErrorCode.values();
            ErrorCode code = errorCode < codes.length ? codes[errorCode] : ErrorCode.FAILED;
            if (reached != null && lsn >= 0) {
                throw new RemoteWriteException(code, message, new WriteReceipt(lsn, reached));
            }
            throw new StorageException(code, message);
        }
        if (status != ClientSession.STATUS_OK && status != ClientSession.STATUS_ABSENT) {
            throw new ProtocolException("unknown response status " + status);
        }
        return new Response(status, lsn, reached, message, entries, epoch);
    }

    @Override
    public void close() {
        channel.close();
    }

    /** A write the node could not acknowledge at the level asked for; the receipt says what it reached. */
    public static final class RemoteWriteException extends StorageException {
        private static final long serialVersionUID = 1L;
        private final WriteReceipt receipt;

        RemoteWriteException(ErrorCode code, String message, WriteReceipt receipt) {
            super(code, message);
            this.receipt = receipt;
        }

        public WriteReceipt receipt() {
            return receipt;
        }
    }
}
