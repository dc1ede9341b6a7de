package dev.redoubt.replication.raft;

import dev.redoubt.common.Limits;
import java.nio.ByteBuffer;

/**
 * One client command of the Raft group, as it travels in a Ratis {@code Message} and sits in the Raft log.
 *
 * <pre>
 * Big-endian:
 *   0  u8   op: 1 PUT, 2 DELETE (log entries), 3 GET, 4 SCAN (read-only queries); 5 is a batch of writes
 *           ({@link RaftWriteBatch})
 *   1  u32  key length k, at most {@value Limits#MAX_KEY_BYTES} (SCAN: the first key, inclusive)
 *   5  k    key bytes
 * PUT then:
 *      u32  value length v, at most {@value Limits#MAX_VALUE_BYTES}
 *      v    value bytes
 * SCAN then:
 *      u8   has-end: 0 (scan to the last key) or 1
 *      u32  end length e, at most {@value Limits#MAX_KEY_BYTES} (has-end 1 only)
 *      e    end key bytes, exclusive (has-end 1 only)
 *      u32  page limit: at most this many entries in the answer, 1..{@value #MAX_SCAN_ENTRIES}
 * Nothing may follow. Any other op or flag, a length or limit out of bounds, or trailing bytes:
 * {@link IllegalArgumentException}.
 * </pre>
 *
 * <p>{@code end} is null and {@code limit} 0 for every op but SCAN. The answers to GET and SCAN are laid out by
 * {@link QueryAnswer}.
 */
public record RaftCommand(int op, byte[] key, byte[] value, byte[] end, int limit) {
    public static final int PUT = 1;
    public static final int DELETE = 2;
    public static final int GET = 3;
    public static final int SCAN = 4;
    /** Most entries one SCAN answer may hold; a client pages through longer ranges. */
    public static final int MAX_SCAN_ENTRIES = 1000;

    public RaftCommand(int op, byte[] key, byte[] value) {
        this(op, key, value, null, 0);
    }

    public static RaftCommand put(byte[] key, byte[] value) {
        return new RaftCommand(PUT, key, value);
    }

    public static RaftCommand delete(byte[] key) {
        return new RaftCommand(DELETE, key, null);
    }

    public static RaftCommand get(byte[] key) {
        return new RaftCommand(GET, key, null);
    }

    /** The keys in {@code [from, end)} ({@code end} null: to the last key), at most {@code limit} of them. */
    public static RaftCommand scan(byte[] from, byte[] end, int limit) {
        if (limit < 1 || limit > MAX_SCAN_ENTRIES) {
            throw new IllegalArgumentException("a scan page holds 1.." + MAX_SCAN_ENTRIES + " entries, not " + limit);
        }
        return new RaftCommand(SCAN, from, null, end, limit);
    }

    public ByteBuffer encode() {
        int size = 1 + 4 + key.length;
        if (op == PUT) {
            size += 4 + value.length;
        } else if (op == SCAN) {
            size += 1 + (end == null ? 0 : 4 + end.length) + 4;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put((byte) op).putInt(key.length).put(key);
        if (op == PUT) {
            b.putInt(value.length).put(value);
        } else if (op == SCAN) {
            b.put((byte) (end == null ? 0 : 1));
            if (end != null) {
                b.putInt(end.length).put(end);
            }
            b.putInt(limit);
        }
        return b.flip();
    }

    /** Decodes hostile bytes: a command, or an {@link IllegalArgumentException} saying what is wrong. */
    public static RaftCommand decode(ByteBuffer in) {
        ByteBuffer b = in.duplicate();
        RaftCommand command = decodeNext(b, false);
        if (b.hasRemaining()) {
            throw new IllegalArgumentException(b.remaining() + " unexpected bytes after a Raft command");
        }
        return command;
    }

    /**
     * Decodes one PUT or DELETE at {@code b}'s position and moves the position past it (the writes of a
     * {@link RaftWriteBatch}); anything else is an {@link IllegalArgumentException}.
     */
    static RaftCommand decodeWrite(ByteBuffer b) {
        return decodeNext(b, true);
    }

    private static RaftCommand decodeNext(ByteBuffer b, boolean writesOnly) {
        if (b.remaining() < 5) {
            throw new IllegalArgumentException("a Raft command of " + b.remaining() + " bytes is too short");
        }
        int op = b.get() & 0xFF;
        boolean write = op == PUT || op == DELETE;
        if (!write && (writesOnly || (op != GET && op != SCAN))) {
            throw new IllegalArgumentException((writesOnly ? "a write batch holds PUTs and DELETEs only, not op "
                    : "unknown Raft command op ") + op);
        }
        byte[] key = field(b, Limits.MAX_KEY_BYTES, "key");
        byte[] value = op == PUT ? field(b, Limits.MAX_VALUE_BYTES, "value") : null;
        byte[] end = null;
        int limit = 0;
        if (op == SCAN) {
            end = hasEnd(b) ? field(b, Limits.MAX_KEY_BYTES, "end key") : null;
            if (b.remaining() < 4) {
                throw new IllegalArgumentException("a SCAN command ends before its page limit");
            }
            limit = b.getInt();
            if (limit < 1 || limit > MAX_SCAN_ENTRIES) {
                throw new IllegalArgumentException("a SCAN page limit of " + limit + " (bound 1.." + MAX_SCAN_ENTRIES + ")");
            }
        }
        return new RaftCommand(op, key, value, end, limit);
    }

    private static boolean hasEnd(ByteBuffer b) {
        if (!b.hasRemaining()) {
            throw new IllegalArgumentException("a SCAN command ends before its has-end flag");
        }
        int flag = b.get() & 0xFF;
        if (flag > 1) {
            throw new IllegalArgumentException("a SCAN has-end flag of " + flag + " (0 or 1)");
        }
        return flag == 1;
    }

    private static byte[] field(ByteBuffer b, int max, String what) {
        if (b.remaining() < 4) {
            throw new IllegalArgumentException("a Raft command ends inside its " + what + " length");
        }
        int n = b.getInt();
        if (n < 0 || n > max || n > b.remaining()) {
            throw new IllegalArgumentException("a " + what + " of " + n + " bytes (bound " + max + ", " + b.remaining()
                    + " left) in a Raft command");
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }
}
