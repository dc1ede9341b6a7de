package dev.redoubt.replication.raft;

import dev.redoubt.common.Limits;
import dev.redoubt.engine.KeyValue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The answers to the read-only {@link RaftCommand}s, as a member's state machine returns them. Each carries the
 * answering member's applied Raft index, read before the engine was: the answer reflects at least that index
 * (a stale read reports it as its bound).
 *
 * <pre>
 * Big-endian. GET answer:
 *   0  u8   found: 0 absent, 1 present
 *   1  u64  applied index of the answering member
 *   9  v    the value (found 1 only), to the end; at most {@value Limits#MAX_VALUE_BYTES} bytes
 * SCAN answer (one page):
 *   0  u8   more: 1 when the page stopped at a bound and keys may follow its last one, 0 when the range is done
 *   1  u64  applied index of the answering member
 *   9  u32  entry count n, at most {@value RaftCommand#MAX_SCAN_ENTRIES}
 *  13  n x  u32 key length k (at most {@value Limits#MAX_KEY_BYTES}), k key bytes (the client's key, without the
 *           state machine's prefix), u32 value length v (at most {@value Limits#MAX_VALUE_BYTES}), v value bytes
 * Nothing may follow a page. A bad flag, a length or count out of bounds, or trailing bytes:
 * {@link IllegalArgumentException}.
 * </pre>
 */
public final class QueryAnswer {
    static final int HEADER_BYTES = 1 + 8;

    private QueryAnswer() {
    }

    /** A GET answer: the value (null when absent) and the answering member's applied index. */
    public record Value(byte[] value, long appliedIndex) {
    }

    /** A SCAN answer: entries in key order, whether more may follow the last one, and the applied index. */
    public record Page(List<KeyValue> entries, boolean more, long appliedIndex) {
    }

    static ByteBuffer encodeValue(byte[] value, long appliedIndex) {
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + (value == null ? 0 : value.length));
        out.put((byte) (value == null ? 0 : 1)).putLong(appliedIndex);
        if (value != null) {
            out.put(value);
        }
        return out.flip();
    }

    /** Decodes hostile bytes into a GET answer, or an {@link IllegalArgumentException} saying what is wrong. */
    public static Value decodeValue(ByteBuffer in) {
        ByteBuffer b = in.duplicate();
        if (b.remaining() < HEADER_BYTES) {
            throw new IllegalArgumentException("a GET answer of " + b.remaining() + " bytes is too short");
        }
        int found = b.get() & 0xFF;
        long applied = b.getLong();
        if (found > 1 || (found == 0 && b.hasRemaining()) || b.remaining() > Limits.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("a malformed GET answer (found flag " + found + ", " + b.remaining()
                    + " value bytes)");
        }
        if (found == 0) {
            return new Value(null, applied);
        }
        byte[] value = new byte[b.remaining()];
        b.get(value);
        return new Value(value, applied);
    }

    static ByteBuffer encodePage(List<KeyValue> entries, boolean more, long appliedIndex) {
        int size = HEADER_BYTES + 4;
        for (KeyValue kv : entries) {
            size += 4 + kv.key().length + 4 + kv.value().length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put((byte) (more ? 1 : 0)).putLong(appliedIndex).putInt(entries.size());
        for (KeyValue kv : entries) {
            out.putInt(kv.key().length).put(kv.key()).putInt(kv.value().length).put(kv.value());
        }
        return out.flip();
    }

    /** Decodes hostile bytes into a SCAN page, or an {@link IllegalArgumentException} saying what is wrong. */
    public static Page decodePage(ByteBuffer in) {
        ByteBuffer b = in.duplicate();
        if (b.remaining() < HEADER_BYTES + 4) {
            throw new IllegalArgumentException("a SCAN answer of " + b.remaining() + " bytes is too short");
        }
        int more = b.get() & 0xFF;
        long applied = b.getLong();
        int count = b.getInt();
        if (more > 1 || count < 0 || count > RaftCommand.MAX_SCAN_ENTRIES) {
            throw new IllegalArgumentException("a malformed SCAN answer (more flag " + more + ", " + count
                    + " entries, bound " + RaftCommand.MAX_SCAN_ENTRIES + ")");
        }
        List<KeyValue> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] key = field(b, Limits.MAX_KEY_BYTES, "key", i);
            entries.add(new KeyValue(key, field(b, Limits.MAX_VALUE_BYTES, "value", i)));
        }
        if (b.hasRemaining()) {
            throw new IllegalArgumentException(b.remaining() + " unexpected bytes after a SCAN answer");
        }
        return new Page(List.copyOf(entries), more == 1, applied);
    }

    private static byte[] field(ByteBuffer b, int max, String what, int entry) {
        if (b.remaining() < 4) {
            throw new IllegalArgumentException("a SCAN answer ends inside the " + what + " length of entry " + entry);
        }
        int n = b.getInt();
        if (n < 0 || n > max || n > b.remaining()) {
            throw new IllegalArgumentException("a " + what + " of " + n + " bytes (bound " + max + ", " + b.remaining()
                    + " left) in entry " + entry + " of a SCAN answer");
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }
}
