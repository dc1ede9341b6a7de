package dev.redoubt.sstable;

import java.nio.file.Path;

/**
 * The decoded contents of one data or index block, with its restart array checked: at least one restart,
 * the first at 0, strictly increasing, all before the restart array. Entries are checked as a
 * {@link BlockCursor} decodes them.
 *
 * <p>Immutable, so one block in the {@link BlockCache} serves any number of threads and cursors.
 */
final class Block {
    /** What a cached block costs beyond its bytes: this object, its array header, the cache's node and key. */
    static final int OVERHEAD_BYTES = 128;

    private final byte[] bytes;
    private final int restartsOffset;
    private final int restartCount;
    private final Path file;
    private final long fileOffset;
    private final boolean compressed;
    private final String kind;

    private Block(byte[] bytes, int restartsOffset, int restartCount, Path file, long fileOffset,
                  boolean compressed, String kind) {
        this.bytes = bytes;
        this.restartsOffset = restartsOffset;
        this.restartCount = restartCount;
        this.file = file;
        this.fileOffset = fileOffset;
        this.compressed = compressed;
        this.kind = kind;
    }

    /** Checks the restart array of {@code c}, the contents of the {@code kind} block at {@code fileOffset}. */
    static Block parse(BlockContents c, Path file, long fileOffset, String kind) {
        byte[] b = c.bytes();
        int length = c.length();
        Block partial = new Block(b, 0, 0, file, fileOffset, c.compressed(), kind);
        int r = SstDescriptor.RESTART_LENGTH;
        if (length < 2 * r) {
            throw partial.corrupt(0, "contents of " + length + " bytes cannot hold an entry and a restart");
        }
        int count = SstDescriptor.getInt(b, length - r);
        if (count < 1 || count > (length - r) / r - 1) {
            throw partial.corrupt(length - r, "restart count " + count + " does not fit in " + length + " bytes");
        }
        int restartsOffset = length - r - count * r;
        int previous = -1;
        for (int i = 0; i < count; i++) {
            int restart = SstDescriptor.getInt(b, restartsOffset + i * r);
            boolean ok = i == 0 ? restart == 0 : restart > previous && restart < restartsOffset;
            if (!ok) {
                throw partial.corrupt(restartsOffset + i * r, "restart " + i + " at " + restart
                        + " is not 0 (first), increasing, or before the restart array at " + restartsOffset);
            }
            previous = restart;
        }
        return new Block(b, restartsOffset, count, file, fileOffset, c.compressed(), kind);
    }

    byte[] bytes() {
        return bytes;
    }

    /** End of the entries: where the restart array starts. */
    int restartsOffset() {
        return restartsOffset;
    }

    int restartCount() {
        return restartCount;
    }

    int restart(int i) {
        return SstDescriptor.getInt(bytes, restartsOffset + i * SstDescriptor.RESTART_LENGTH);
    }

    long fileOffset() {
        return fileOffset;
    }

    /** Memory the block pins, as the cache charges it. */
    long chargeBytes() {
        return (long) bytes.length + OVERHEAD_BYTES;
    }

    /**
     * A corruption report for a problem at {@code contentsOffset}: the exact file byte when the block is
     * stored raw; the block's own offset (and the offset within its LZ4 contents) when it is compressed.
     */
    SstCorruptionException corrupt(int contentsOffset, String problem) {
        if (compressed) {
            return new SstCorruptionException(file, fileOffset, kind + " block at byte " + fileOffset
                    + " (LZ4; offset " + contentsOffset + " of its contents): " + problem);
        }
        return new SstCorruptionException(file, fileOffset + contentsOffset, kind + " block at byte "
                + fileOffset + " (offset " + contentsOffset + "): " + problem);
    }
}
