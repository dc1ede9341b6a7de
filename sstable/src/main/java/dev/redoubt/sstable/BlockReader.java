package dev.redoubt.sstable;

import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Reads one block from a table: bounds, then checksum, then decompression, each checked before the next
 * step trusts a byte of it. Stateless and thread-safe (positional reads of a shared file).
 */
final class BlockReader {
    /** The safe decompressor checks every match offset and length: hostile input cannot read or write out of bounds. */
    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();

    private BlockReader() {
    }

    /**
     * Reads the block at {@code h}, which the caller has already bounded by the file (so the read allocates
     * at most {@code maxBytes} plus the trailer); decompressed contents may be at most {@code maxBytes}.
     */
    static BlockContents read(StorageFile f, Path file, BlockHandle h, int maxBytes, String kind) {
        if (h.size() < 0 || h.size() > maxBytes) {
            throw new SstCorruptionException(file, h.offset(), kind + " block size " + h.size()
                    + " is outside [0, " + maxBytes + "]");
        }
        int trailerAt = h.size();
        byte[] buf = new byte[trailerAt + SstDescriptor.TRAILER_LENGTH];
        try {
            f.readFully(h.offset(), ByteBuffer.wrap(buf));
        } catch (EOFException e) {
            throw new SstCorruptionException(file, h.offset(), kind + " block of " + buf.length
                    + " bytes (with trailer) runs past the end of the file");
        } catch (IOException e) {
            throw StorageException.fromIo("reading " + kind + " block at byte " + h.offset() + " of SSTable " + file, e);
        }
        int stored = SstDescriptor.trailerChecksum(buf, trailerAt);
        int computed = SstDescriptor.blockChecksum(buf, 0, h.size(), buf, trailerAt);
        if (stored != computed) {
            throw new SstCorruptionException(file, h.offset(), String.format("%s block at byte %d (%d stored"
                    + " bytes and trailer): checksum mismatch (stored 0x%08x, computed 0x%08x)", kind, h.offset(),
                    h.size(), stored, computed));
        }
        byte compression = SstDescriptor.trailerCompression(buf, trailerAt);
        int raw = SstDescriptor.trailerRawLength(buf, trailerAt);
        long rawAt = h.offset() + trailerAt + SstDescriptor.TRAILER_RAW_LENGTH_OFFSET;
        if (compression == SstDescriptor.COMPRESSION_NONE) {
            if (raw != h.size()) {
                throw new SstCorruptionException(file, rawAt, kind + " block at byte " + h.offset()
                        + " is stored raw but its raw length " + raw + " differs from its size " + h.size());
            }
            return new BlockContents(buf, h.size(), false);
        }
        if (compression != SstDescriptor.COMPRESSION_LZ4) {
            throw new SstCorruptionException(file, h.offset() + trailerAt + SstDescriptor.TRAILER_COMPRESSION_OFFSET,
                    kind + " block at byte " + h.offset() + " has unknown compression type " + compression);
        }
        if (raw < 0 || raw > maxBytes || raw > (long) h.size() * SstDescriptor.MAX_LZ4_RATIO) {
            throw new SstCorruptionException(file, rawAt, kind + " block at byte " + h.offset() + " claims "
                    + raw + " decompressed bytes from " + h.size() + " stored: outside [0, " + maxBytes
                    + "] or beyond LZ4's ratio");
        }
        byte[] contents = new byte[raw];
        int n;
        try {
            n = DECOMPRESSOR.decompress(buf, 0, h.size(), contents, 0, raw);
        } catch (LZ4Exception e) {
            n = -1;
        }
        if (n != raw) {
            throw new SstCorruptionException(file, h.offset(), kind + " block at byte " + h.offset()
                    + ": LZ4 contents do not decompress to their raw length " + raw);
        }
        return new BlockContents(contents, raw, true);
    }
}
