package dev.redoubt.replication;

import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * LZ4 for the WAL stream between the nodes of a pair, negotiated per connection: a backup that can inflate says
 * so in its STREAM_FROM (flag {@link #FLAG_LZ4}); its primary then sends each WAL_CHUNK whose records shrink by
 * at least an eighth as a WAL_CHUNK_LZ4 instead, and the rest as they are.
 *
 * <pre>
 * WAL_CHUNK_LZ4  25  u64 epoch, u64 previous LSN, u64 LSN (as WAL_CHUNK), u32 raw length R (1 .. 32 MiB: the
 *                    records' bytes), blob LZ4 block (at most R bytes) that inflates to exactly R bytes
 * </pre>
 *
 * The inflated records then go through every check a WAL_CHUNK's do (continuity, each record's CRC32C and
 * fields). A block that does not inflate to exactly R bytes is a {@link ProtocolException}; R is bounded before
 * anything is allocated.
 *
 * <p>Not thread-safe: one per connection side.
 */
final class ChunkCompression {
    /** STREAM_FROM flag: the backup takes WAL_CHUNK_LZ4 frames. */
    static final int FLAG_LZ4 = 1;
    /** Chunks smaller than this travel uncompressed (a heartbeat-sized chunk gains nothing). */
    static final int MIN_RAW_BYTES = 512;

    private final LZ4Compressor compressor = LZ4Factory.fastestInstance().fastCompressor();
    private final LZ4SafeDecompressor decompressor = LZ4Factory.fastestInstance().safeDecompressor();
    private ByteBuffer compressed = ByteBuffer.allocate(0);
    private ByteBuffer inflated = ByteBuffer.allocateDirect(0);

    /**
     * The frame to send for a WAL_CHUNK built in {@code chunk} whose records are {@code rawLength} bytes from
     * body offset {@code recordsAt}: a WAL_CHUNK_LZ4 built in {@code into} when LZ4 shrinks them by an eighth or
     * more, else {@code chunk} itself.
     */
    FrameBuilder compress(FrameBuilder chunk, long epoch, long previous, long end, int recordsAt, int rawLength,
                          FrameBuilder into) {
        if (rawLength < MIN_RAW_BYTES) {
            return chunk;
        }
        int max = compressor.maxCompressedLength(rawLength);
        if (compressed.capacity() < max) {
            compressed = ByteBuffer.allocate(max);
        }
        ByteBuffer body = chunk.body();
        int n = compressor.compress(body, recordsAt, rawLength, compressed, 0, max);
        if (n > rawLength - rawLength / 8) {
            return chunk;
        }
        into.start(FrameType.WAL_CHUNK_LZ4).u64(epoch).u64(previous).u64(end).u32(rawLength).u32(n);
        ByteBuffer dst = into.ensure(n);
        dst.put(compressed.array(), 0, n);
        return into;
    }

    /**
     * The records of a WAL_CHUNK_LZ4 whose fields after the LSNs are in {@code frame}: a view valid until the
     * next call.
     */
    ByteBuffer inflate(Frame frame) throws ProtocolException {
        int raw = frame.u32();
        if (raw < 1 || raw > Frame.MAX_BODY_BYTES) {
            throw new ProtocolException("a WAL_CHUNK_LZ4 announces " + raw + " raw bytes, outside 1.."
                    + Frame.MAX_BODY_BYTES);
        }
        ByteBuffer block = frame.blobView(raw);
        if (block == null) {
            throw new ProtocolException("a WAL_CHUNK_LZ4 without its LZ4 block");
        }
        if (inflated.capacity() < raw) {
            inflated = ByteBuffer.allocateDirect(Math.max(raw, Math.min(Frame.MAX_BODY_BYTES, 2 * inflated.capacity())));
        }
        int n;
        try {
            n = decompressor.decompress(block, block.position(), block.remaining(), inflated, 0, raw);
        } catch (LZ4Exception e) {
            throw new ProtocolException("a WAL_CHUNK_LZ4 block does not inflate: " + e.getMessage());
        }
        if (n != raw) {
            throw new ProtocolException("a WAL_CHUNK_LZ4 block inflates to " + n + " bytes, not the " + raw + " it announces");
        }
        return inflated.duplicate().position(0).limit(raw);
    }
}
