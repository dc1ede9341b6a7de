package dev.redoubt.replication;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One received frame of the node protocol, read field by field with bounds checks: a short or overlong field
 * is a {@link ProtocolException}, never an exception of another kind or an unbounded allocation.
 *
 * <pre>
 * Frame on the wire (every integer big-endian):
 *   0  u32  body length N    1 .. 1 KiB before authentication, 1 .. {@value #MAX_BODY_BYTES} after
 *   4  u32  CRC32C of the N body bytes
 *   8  body: u8 type code, then the type's fields:
 *
 *   HELLO       1   u32 magic 0x52444254 ("RDBT"), u16 protocol version (1), u8 purpose (1 replica, 2 client),
 *                   bytes32 client nonce
 *   CHALLENGE   2   bytes32 server nonce, bytes32 server proof = HMAC-SHA256(secret, "redoubt-server" |
 *                   client nonce | server nonce)
 *   AUTH        3   bytes32 client proof = HMAC-SHA256(secret, "redoubt-client" | server nonce | client nonce)
 *   WELCOME     4   u64 epoch, u8 role (1 primary, 2 backup, 3 fenced), u32 WAL segment bytes
 *   ERROR       5   u16 error code (ErrorCode ordinal), str message
 *   STREAM_FROM 10  u64 backup's epoch, u64 backup's end LSN, str backup name[, u8 flags: bit 0 the backup
 *                   takes WAL_CHUNK_LZ4 frames; absent from older backups]
 *   WAL_CHUNK   11  u64 epoch, u64 previous LSN (where the chunk starts, the end of the last one), u64 LSN
 *                   (where it ends), blob records (as {@code Wal.appendReplicated} takes them)
 *   WAL_CHUNK_LZ4 25 as WAL_CHUNK, the records LZ4-compressed: u64 epoch, u64 previous LSN, u64 LSN, u32 raw
 *                   length R, blob LZ4 block inflating to exactly R bytes (see ChunkCompression)
 *   ACK         12  u64 epoch, u64 received LSN, u64 durable LSN, u64 applied LSN
 *   HEARTBEAT   13  u64 epoch, u64 primary's durable LSN, u64 primary's clock (ms since the epoch)
 *   DIVERGED    14  u64 epoch, u64 fork LSN (the backup holds records past it the primary never had)
 *   HISTORY     15  u16 count (1 .. 1024), count x (u64 epoch, u64 start LSN)
 *   FENCE       16  u64 epoch (the sender is primary at this epoch)
 *   CHECKPOINT_BEGIN 17  u64 epoch, u64 checkpoint LSN C, u16 file count (a bootstrap follows: HISTORY, then
 *                   per file FILE_CHUNKs and a FILE_END, then CHECKPOINT_END; the primary then closes)
 *   FILE_CHUNK  18  str name, u64 offset (bytes of the file sent before), blob data (at most 1 MiB)
 *   FILE_END    19  str name, u64 size, u32 CRC32C of the whole file
 *   CHECKPOINT_END 22  u64 checkpoint LSN C
 *   FIND_FORK   23  u64 epoch, u64 end LSN (a deposed primary asking where its log left the history)
 *   FORK        24  u64 primary's epoch, u64 fork LSN (equal to the asked end LSN when nothing diverged)
 *   File names are validated against a fixed pattern (CURRENT, MANIFEST-n, sst/n.sst, wal/n.wal): no path
 *   separators beyond those, no "..", nothing absolute.
 *   REQUEST     20  u64 request id, u8 op, u8 commit level (PUT, DELETE: the write's; GET: the read's, 0xFF a
 *                   local read), blob key, blob value, blob scan end, u32 limit
 *   RESPONSE    21  u64 request id, u8 status (0 ok, 1 absent, 2 error), u64 LSN, u8 level reached,
 *                   u16 error code, str message, u32 count, count x (blob key, blob value), u64 epoch (of the
 *                   primary that accepted the write; -1 for other answers; absent from nodes of an older build)
 *
 *   str  = u16 length (at most 4096) + UTF-8 bytes;  blob = i32 length (-1 for none, at most the field's
 *   bound) + bytes;  bytes32 = 32 bytes.
 * </pre>
 *
 * <p>Why a checksum on top of TCP's: TCP's 16-bit sum misses real corruption (NIC and middlebox bugs), and a
 * WAL chunk is also protected by its records' own CRC32C, so a frame error is always caught before a byte is
 * written. Why bounds before authentication: an unauthenticated peer must not make the node allocate more
 * than a kilobyte.
 */
public final class Frame {
    public static final int MAX_BODY_BYTES = 32 * 1024 * 1024;
    public static final int MAX_BODY_BYTES_BEFORE_AUTH = 1024;
    public static final int MAX_STRING_BYTES = 4096;
    public static final int MAGIC = 0x52444254;
    public static final int PROTOCOL_VERSION = 1;

    private final FrameType type;
    private final ByteBuffer body;

    Frame(FrameType type, ByteBuffer body) {
        this.type = type;
        this.body = body;
    }

    public FrameType type() {
        return type;
    }

    /** Fails unless this frame is of {@code expected} type (an ERROR frame's message is passed on). */
    Frame expect(FrameType expected) throws ProtocolException {
        if (type == FrameType.ERROR) {
            int code = u16();
            throw new ProtocolException("the peer reported an error (" + code + "): " + str());
        }
        if (type != expected) {
            throw new ProtocolException("expected a " + expected + " frame, got " + type);
        }
        return this;
    }

    int u8() throws ProtocolException {
        need(1, "u8");
        return body.get() & 0xFF;
    }

    int u16() throws ProtocolException {
        need(2, "u16");
        return body.getShort() & 0xFFFF;
    }

    int u32() throws ProtocolException {
        need(4, "u32");
        return body.getInt();
    }

    long u64() throws ProtocolException {
        need(8, "u64");
        return body.getLong();
    }

    /** A non-negative u64 (an LSN or epoch). */
    long lsn() throws ProtocolException {
        long v = u64();
        if (v < 0) {
            throw new ProtocolException("negative LSN or epoch " + v + " in a " + type + " frame");
        }
        return v;
    }

    byte[] bytes32() throws ProtocolException {
        need(32, "32 bytes");
        byte[] b = new byte[32];
        body.get(b);
        return b;
    }

    String str() throws ProtocolException {
        int n = u16();
        if (n > MAX_STRING_BYTES) {
            throw new ProtocolException("a string of " + n + " bytes exceeds " + MAX_STRING_BYTES + " in a " + type + " frame");
        }
        need(n, "string");
        byte[] b = new byte[n];
        body.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A blob of at most {@code max} bytes, or null when absent (length -1). */
    byte[] blob(int max) throws ProtocolException {
        int n = blobLength(max);
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        body.get(b);
        return b;
    }

    /** A blob as a view of this frame's body (no copy); null when absent. */
    ByteBuffer blobView(int max) throws ProtocolException {
        int n = blobLength(max);
        if (n < 0) {
            return null;
        }
        ByteBuffer view = body.slice(body.position(), n);
        body.position(body.position() + n);
        return view;
    }

    /** A blob's length, checked against {@code max} and what the frame holds; -1 for an absent blob. */
    private int blobLength(int max) throws ProtocolException {
        int n = u32();
        if (n == -1) {
            return -1;
        }
        if (n < 0 || n > max) {
            throw new ProtocolException("a field of " + n + " bytes exceeds its bound of " + max + " in a " + type + " frame");
        }
        need(n, "blob");
        return n;
    }

    /** Whether fields are left to read (an optional trailing field a newer peer adds). */
    boolean more() {
        return body.hasRemaining();
    }

    /** Fails if bytes are left over: a frame must be exactly its fields. */
    void end() throws ProtocolException {
        if (body.hasRemaining()) {
            throw new ProtocolException(body.remaining() + " unexpected bytes after the fields of a " + type + " frame");
        }
    }

    private void need(int n, String what) throws ProtocolException {
        if (body.remaining() < n) {
            throw new ProtocolException("a " + type + " frame ends inside its " + what + " field");
        }
    }
}
