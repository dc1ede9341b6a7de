package dev.redoubt.sstable;

import java.io.IOException;
import java.util.Arrays;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * Writes finished block contents to a table: LZ4-compresses them when asked and worth it, then appends the
 * stored bytes and the trailer (compression, raw length, CRC32C) described in {@link SstDescriptor}.
 *
 * <p>Not thread-safe: owned by one writer.
 */
final class BlockWriter {
    private static final LZ4Compressor COMPRESSOR = LZ4Factory.fastestInstance().fastCompressor();

    private final TableOutput out;
    private final byte[] trailer = new byte[SstDescriptor.TRAILER_LENGTH];
    private byte[] compressed = new byte[0];

    BlockWriter(TableOutput out) {
        this.out = out;
    }

    /** Appends one block built from {@code contents[0, length)}; returns its handle. */
    BlockHandle write(byte[] contents, int length, boolean compress) throws IOException {
        byte[] stored = contents;
        int storedSize = length;
        byte compression = SstDescriptor.COMPRESSION_NONE;
        if (compress && length > 0) {
            int bound = COMPRESSOR.maxCompressedLength(length);
            if (compressed.length < bound) {
                compressed = Arrays.copyOf(compressed, Math.max(bound, 2 * compressed.length));
            }
            int n = COMPRESSOR.compress(contents, 0, length, compressed, 0, compressed.length);
            // Like LevelDB: keep it compressed only if that saves at least an eighth, else every read would
            // pay for decompression to save almost nothing.
            if (n < length - length / 8) {
                stored = compressed;
                storedSize = n;
                compression = SstDescriptor.COMPRESSION_LZ4;
            }
        }
        SstDescriptor.fillTrailer(trailer, stored, 0, storedSize, compression, length);
        long offset = out.position();
        out.append(stored, 0, storedSize);
        out.append(trailer, 0, trailer.length);
        return new BlockHandle(offset, storedSize);
    }
}
