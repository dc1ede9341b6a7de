package dev.redoubt.replication.raft;

import dev.redoubt.common.Limits;
import java.nio.ByteBuffer;

/**
 * One client command of the Raft group, as it travels in a Ratis {@code Message} and sits in the Raft log.
 *
 * <pre>
 * Big-endian:
 *   0  u8   op: 1 PUT, 2 DELETE (log entries), 3 GET (a read-only query)
 *   1  u32  key length k, at most {@value Limits#MAX_KEY_BYTES}
 *   5  k    key bytes
 *      u32  value length v (PUT only), at most {@value Limits#MAX_VALUE_BYTES}
 *      v    value bytes
 * Nothing may follow. Any other op, a length out of bounds or trailing bytes: {@link IllegalArgumentException}.
 * </pre>
 */
public record RaftCommand(int op, byte[] key, byte[] value) {
    public static final int PUT = 1;
    public static final int DELETE = 2;
    public static final int GET = 3;

    public static RaftCommand put(byte[] key, byte[] value) {
        return new RaftCommand(PUT, key, value);
    }

    public static RaftCommand delete(byte[] key) {
        return new RaftCommand(DELETE, key, null);
    }

    public static RaftCommand get(byte[] key) {
        return new RaftCommand(GET, key, null);
    }

    public ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + key.length + (op == PUT ? 4 + value.length : 0));
        b.put((byte) op).putInt(key.length).put(key);
        if (op == PUT) {
            b.putInt(value.length).put(value);
        }
        return b.flip();
    }

    /** Decodes hostile bytes: a command, or an {@link IllegalArgumentException} saying what is wrong. */
    public static RaftCommand decode(ByteBuffer in) {
        ByteBuffer b = in.duplicate();
        if (b.remaining() < 5) {
            throw new IllegalArgumentException("a Raft command of " + b.remaining() + " bytes is too short");
        }
        int op = b.get() & 0xFF;
        if (op != PUT && op != DELETE && op != GET) {
            throw new IllegalArgumentException("unknown Raft command op " + op);
        }
        byte[] key = field(b, Limits.MAX_KEY_BYTES, "key");
        byte[] value = op == PUT ? field(b, Limits.MAX_VALUE_BYTES, "value") : null;
        if (b.hasRemaining()) {
            throw new IllegalArgumentException(b.remaining() + " unexpected bytes after a Raft command");
        }
        return new RaftCommand(op, key, value);
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
