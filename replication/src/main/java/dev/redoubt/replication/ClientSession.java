package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.DbIterator;
import dev.redoubt.engine.WriteBatch;
import java.io.IOException;

/**
 * Serves one client connection: REQUEST frames answered in order with RESPONSE frames, and FENCE notices
 * from a newly promoted primary. See {@link Frame} for the layout and {@link NodeClient} for the other side.
 */
final class ClientSession {
    static final int OP_PUT = 1;
    static final int OP_GET = 2;
    static final int OP_DELETE = 3;
    static final int OP_SCAN = 4;
    static final int OP_STATUS = 5;
    static final int OP_PROMOTE = 6;
    static final int DEFAULT_LEVEL = 0xFF;
    static final int STATUS_OK = 0;
    static final int STATUS_ABSENT = 1;
    static final int STATUS_ERROR = 2;
    /** A scan answers at most this many entries and about this many bytes per request. */
    static final int MAX_SCAN_ENTRIES = 10_000;
    static final int MAX_SCAN_BYTES = 16 * 1024 * 1024;

    private final Node node;
    private final FrameChannel channel;
    private final FrameBuilder out = new FrameBuilder();

    ClientSession(Node node, FrameChannel channel) {
        this.node = node;
        this.channel = channel;
    }

    void run() throws IOException {
        while (true) {
            Frame frame = channel.receive();
            if (frame.type() == FrameType.FENCE) {
                long epoch = frame.lsn();
                frame.end();
                node.fence(epoch, "the primary of epoch " + epoch + " at " + channel.peer() + " said so");
                respond(0, STATUS_OK, -1, null, ErrorCode.FAILED, "", null);
                continue;
            }
            Request r = parseRequest(frame);
            try {
                handle(r.id(), r.op(), r.level(), r.key(), r.value(), r.end(), r.limit());
            } catch (ReplicationTimeoutException e) {
                respond(r.id(), STATUS_ERROR, e.receipt().lsn(), e.receipt().reached(), e.code(), e.getMessage(), null);
            } catch (StorageException e) {
                respond(r.id(), STATUS_ERROR, -1, null, e.code(), e.getMessage(), null);
            } catch (IllegalArgumentException e) {
                respond(r.id(), STATUS_ERROR, -1, null, ErrorCode.INVALID_STATE, e.getMessage(), null);
            }
        }
    }

    /** A decoded REQUEST frame (see {@link Frame}); fields are bounded by {@link Limits}. */
    record Request(long id, int op, int level, byte[] key, byte[] value, byte[] end, int limit) {
    }

    static Request parseRequest(Frame frame) throws ProtocolException {
        frame.expect(FrameType.REQUEST);
        Request r = new Request(frame.u64(), frame.u8(), frame.u8(), frame.blob(Limits.MAX_KEY_BYTES),
                frame.blob(Limits.MAX_VALUE_BYTES), frame.blob(Limits.MAX_KEY_BYTES), frame.u32());
        frame.end();
        return r;
    }

    private void handle(long id, int op, int level, byte[] key, byte[] value, byte[] end, int limit) throws IOException {
        switch (op) {
            case OP_PUT, OP_DELETE -> {
                if (key == null || (op == OP_PUT && value == null)) {
                    throw new IllegalArgumentException(op == OP_PUT ? "put needs a key and a value" : "delete needs a key");
                }
                WriteBatch batch = op == OP_PUT ? new WriteBatch().put(key, value) : new WriteBatch().delete(key);
                WriteReceipt r = level == DEFAULT_LEVEL ? node.write(batch) : node.write(batch, commitLevel(level));
                respond(id, STATUS_OK, r.lsn(), r.reached(), ErrorCode.FAILED, "", null, r.epoch());
            }
            case OP_GET -> {
                if (key == null) {
                    throw new IllegalArgumentException("get needs a key");
                }
                byte[] v = level == DEFAULT_LEVEL ? node.db().get(key) : node.get(key, commitLevel(level));
                respond(id, v == null ? STATUS_ABSENT : STATUS_OK, -1, null, ErrorCode.FAILED, "",
                        v == null ? null : new byte[][] {key, v});
            }
            case OP_SCAN -> scan(id, key, end, limit);
            case OP_STATUS -> respond(id, STATUS_OK, -1, null, ErrorCode.FAILED, node.status().toJson(), null);
            case OP_PROMOTE -> {
                respond(id, STATUS_OK, -1, null, ErrorCode.FAILED, node.promoteForOperator(), null);
            }
            default -> throw new IllegalArgumentException("unknown request op " + op);
        }
    }

    private static CommitLevel commitLevel(int code) {
        CommitLevel[] levels = CommitLevel.values();
        if (code < 0 || code >= levels.length) {
            throw new IllegalArgumentException("unknown commit level " + code);
        }
        return levels[code];
    }

    private void scan(long id, byte[] from, byte[] to, int limit) throws IOException {
        int max = limit <= 0 ? MAX_SCAN_ENTRIES : Math.min(limit, MAX_SCAN_ENTRIES);
        java.util.List<byte[]> flat = new java.util.ArrayList<>();
        long bytes = 0;
        try (DbIterator it = node.db().scan(from, to)) {
            while (flat.size() / 2 < max && bytes < MAX_SCAN_BYTES && it.hasNext()) {
                dev.redoubt.engine.KeyValue kv = it.next();
                flat.add(kv.key());
                flat.add(kv.value());
                bytes += kv.key().length + kv.value().length;
            }
        }
        respond(id, STATUS_OK, -1, null, ErrorCode.FAILED, "", flat.toArray(new byte[0][]));
    }

    private void respond(long id, int status, long lsn, WriteReceipt.Reached reached, ErrorCode code, String message,
                         byte[][] keysAndValues) throws IOException {
        respond(id, status, lsn, reached, code, message, keysAndValues, -1);
    }

    private void respond(long id, int status, long lsn, WriteReceipt.Reached reached, ErrorCode code, String message,
                         byte[][] keysAndValues, long epoch) throws IOException {
        out.start(FrameType.RESPONSE).u64(id).u8(status).u64(lsn).u8(reached == null ? 0xFF : reached.ordinal())
                .u16(code.ordinal()).str(message);
        int n = keysAndValues == null ? 0 : keysAndValues.length / 2;
        out.u32(n);
        for (int i = 0; i < n; i++) {
            out.blob(keysAndValues[2 * i]).blob(keysAndValues[2 * i + 1]);
        }
        channel.send(out.u64(epoch));
    }
}
