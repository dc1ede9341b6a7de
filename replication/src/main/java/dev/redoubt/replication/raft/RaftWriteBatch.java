package dev.redoubt.replication.raft;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The client writes one Raft log entry carries: one or more puts and deletes, applied in order as one atomic
 * engine batch on every member. A client that has several writes to send at once (its callers' writes that
 * arrived together, see {@link RaftWriteBatcher}) sends them as one entry, so that one append, one fsync per
 * member and one replication round commit all of them, as etcd commits the proposals that arrive together.
 *
 * <pre>
 * Big-endian. Either a single write, exactly as {@link RaftCommand} lays out a PUT (op 1) or a DELETE (op 2),
 * or a batch:
 *   0  u8   op: 5 (BATCH)
 *   1  u32  count n, 1..{@value #MAX_WRITES}
 *   5  n writes, each a {@link RaftCommand} PUT or DELETE in its own layout (op, key length, key, and for a PUT
 *      value length, value)
 * Nothing may follow. Any other op (a GET or SCAN, a batch inside a batch), a count out of bounds, a length out of
 * its bound or past the end, or trailing bytes: {@link IllegalArgumentException}.
 * </pre>
 *
 * <p>A later write to a key overrides an earlier one in the same batch (the engine gives the operations of a
 * batch ascending sequence numbers). Entries written before batches existed hold a single write and decode the
 * same way.
 */
public record RaftWriteBatch(List<RaftCommand> writes) {
    public static final int BATCH = 5;
    /** Most writes one entry may carry; a client cuts longer runs into several entries. */
    public static final int MAX_WRITES = 4096;
    private static final int HEADER_BYTES = 5;

    public RaftWriteBatch {
        if (writes.isEmpty() || writes.size() > MAX_WRITES) {
            throw new IllegalArgumentException("a Raft write batch holds 1.." + MAX_WRITES + " writes, not " + writes.size());
        }
        for (RaftCommand w : writes) {
            if (!isWrite(w.op())) {
                throw new IllegalArgumentException("a Raft write batch holds PUTs and DELETEs only, not op " + w.op());
            }
        }
        writes = List.copyOf(writes);
    }

    /** Whether {@code op} is a write (PUT or DELETE) rather than a read. */
    static boolean isWrite(int op) {
        return op == RaftCommand.PUT || op == RaftCommand.DELETE;
    }

    /** The encoded size of {@code write} inside a batch. */
    static int encodedBytes(RaftCommand write) {
        return 1 + 4 + write.key().length + (write.op() == RaftCommand.PUT ? 4 + write.value().length : 0);
    }

    /** A single write is sent in its own layout (five bytes shorter); two or more as a BATCH. */
    public ByteBuffer encode() {
        if (writes.size() == 1) {
            return writes.get(0).encode();
        }
        int size = HEADER_BYTES;
        for (RaftCommand w : writes) {
            size += encodedBytes(w);
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put((byte) BATCH).putInt(writes.size());
        for (RaftCommand w : writes) {
            b.put(w.encode());
        }
        return b.flip();
    }

    /** Decodes hostile bytes: the writes, or an {@link IllegalArgumentException} saying what is wrong. */
    public static RaftWriteBatch decode(ByteBuffer in) {
        ByteBuffer b = in.duplicate();
        if (!b.hasRemaining()) {
            throw new IllegalArgumentException("an empty Raft log entry");
        }
        int op = b.get(b.position()) & 0xFF;
        if (op != BATCH) {
            RaftCommand single = RaftCommand.decode(b);
            if (!isWrite(single.op())) {
                throw new IllegalArgumentException("op " + single.op() + " is a read, not a write");
            }
            return new RaftWriteBatch(List.of(single));
        }
        if (b.remaining() < HEADER_BYTES) {
            throw new IllegalArgumentException("a Raft write batch of " + b.remaining() + " bytes is too short");
        }
        b.get();
        int count = b.getInt();
        if (count < 1 || count > MAX_WRITES) {
            throw new IllegalArgumentException("a Raft write batch of " + count + " writes (bound 1.." + MAX_WRITES + ")");
        }
        // every write takes at least 5 bytes: a count the bytes cannot hold is refused before anything is allocated
        if (count > b.remaining() / 5) {
            throw new IllegalArgumentException("a Raft write batch says " + count + " writes but holds "
                    + b.remaining() + " bytes");
        }
        List<RaftCommand> writes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            RaftCommand w = RaftCommand.decodeWrite(b);
            writes.add(w);
        }
        if (b.hasRemaining()) {
            throw new IllegalArgumentException(b.remaining() + " unexpected bytes after a Raft write batch");
        }
        return new RaftWriteBatch(writes);
    }
}
