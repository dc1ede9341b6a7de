package dev.redoubt.sstable;

import dev.redoubt.common.KeyOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.agrona.collections.IntArrayList;
import org.agrona.collections.LongArrayList;

/**
 * The decoded index of a table: for each data block, its last entry's key and sequence and its handle. Decoded
 * once at open into flat arrays, so that finding a block is a binary search with no decoding and no
 * allocation. Proven at decode: keys strictly increasing in internal order, blocks back to back from offset
 * 0 up to the index, each within {@link SstDescriptor#MAX_DATA_BLOCK_BYTES}.
 *
 * <p>Immutable: shared by every lookup and iterator of a reader.
 */
final class IndexBlock {
    private final byte[][] lastKeys;
    private final long[] lastSequences;
    private final long[] offsets;
    private final int[] sizes;

    private IndexBlock(byte[][] lastKeys, long[] lastSequences, long[] offsets, int[] sizes) {
        this.lastKeys = lastKeys;
        this.lastSequences = lastSequences;
        this.offsets = offsets;
        this.sizes = sizes;
    }

    /** Decodes and checks the index {@code block}, which must describe every byte before {@code dataEnd}. */
    static IndexBlock decode(Block block, long dataEnd) {
        List<byte[]> keys = new ArrayList<>();
        LongArrayList sequences = new LongArrayList();
        LongArrayList offsets = new LongArrayList();
        IntArrayList sizes = new IntArrayList();
        long expectedOffset = 0;
        BlockCursor c = new BlockCursor().reset(block);
        for (c.seekToFirst(); c.valid(); c.next()) {
            byte[] key = Arrays.copyOf(c.keyBuffer(), c.keyLength());
            if (!keys.isEmpty() && KeyOrder.compareEntries(keys.get(keys.size() - 1),
                    sequences.getLong(keys.size() - 1), key, c.sequence()) >= 0) {
                throw block.corrupt(c.entryOffset(), "index entry " + keys.size() + " (" + Keys.describe(key)
                        + ", sequence " + c.sequence() + ") does not sort after the previous one");
            }
            if (c.valueLength() != SstDescriptor.HANDLE_LENGTH) {
                throw block.corrupt(c.entryOffset(), "index entry " + keys.size() + " has a " + c.valueLength()
                        + "-byte value, not a " + SstDescriptor.HANDLE_LENGTH + "-byte block handle");
            }
            long offset = SstDescriptor.handleOffset(c.blockBytes(), c.valueOffset());
            int size = SstDescriptor.handleSize(c.blockBytes(), c.valueOffset());
            if (offset != expectedOffset || size < 0 || size > SstDescriptor.MAX_DATA_BLOCK_BYTES
                    || expectedOffset + size + SstDescriptor.TRAILER_LENGTH > dataEnd) {
                throw block.corrupt(c.valueOffset(), "index entry " + keys.size() + " names data block (offset "
                        + offset + ", size " + size + "); expected offset " + expectedOffset + ", size at most "
                        + Math.min(SstDescriptor.MAX_DATA_BLOCK_BYTES,
                                dataEnd - expectedOffset - SstDescriptor.TRAILER_LENGTH));
            }
            keys.add(key);
            sequences.addLong(c.sequence());
            offsets.addLong(offset);
            sizes.addInt(size);
            expectedOffset = offset + size + SstDescriptor.TRAILER_LENGTH;
        }
        if (expectedOffset != dataEnd) {
            throw block.corrupt(block.restartsOffset(), "index data blocks end at byte " + expectedOffset
                    + ", not at the index's own offset " + dataEnd);
        }
        return new IndexBlock(keys.toArray(new byte[0][]), sequences.toLongArray(), offsets.toLongArray(),
                sizes.toIntArray());
    }

    int blockCount() {
        return offsets.length;
    }

    /**
     * The first block whose last entry is at or after ({@code key}, {@code sequence}) in internal order: the
     * only block that can hold that position. {@link #blockCount()} if every block ends before it.
     */
    int find(byte[] key, long sequence) {
        int lo = 0;
        int hi = offsets.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (KeyOrder.compareEntries(lastKeys[mid], lastSequences[mid], key, sequence) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    long offset(int block) {
        return offsets[block];
    }

    int size(int block) {
        return sizes[block];
    }

    /** The last key of data block {@code block}; do not modify. */
    byte[] lastKey(int block) {
        return lastKeys[block];
    }

    long lastSequence(int block) {
        return lastSequences[block];
    }
}
