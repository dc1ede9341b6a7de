package dev.redoubt.memtable;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.agrona.BufferUtil;

/**
 * A bump allocator over off-heap chunks: the memtable's skip-list nodes, each with its key and value
 * ({@link MemtableNode}; LevelDB's {@code Arena}).
 *
 * <p>Placement rule (it defines what {@link #usedBytes()} counts, so it is the accounting rule too). Every
 * record is a multiple of 8 bytes, so every record starts 8-byte aligned.
 * <ul>
 *   <li>A record larger than a quarter of a chunk gets a chunk of its own, of exactly its size; the current
 *       chunk stays current. A quarter, not "larger than a chunk", so that at most a quarter of every chunk is
 *       ever abandoned (below).</li>
 *   <li>Any other record goes at the cursor of the current chunk. If the current chunk's free tail is too short,
 *       that tail is <em>abandoned</em> (counted as used: nothing will ever be placed there) and a new chunk of
 *       {@code chunkBytes} becomes current.</li>
 * </ul>
 * So {@code usedBytes} = the sum of record sizes + the sum of abandoned tails, and
 * {@code reservedBytes} (direct memory actually allocated) = {@code usedBytes} + the free tail of the current
 * chunk, which is less than one chunk.
 *
 * <p>Chunks are {@link ByteBuffer#allocateDirect} buffers, addressed by their absolute addresses.
 * {@link #free()} returns them at once (their cleaner); a chunk nobody freed is still returned by the GC when
 * unreachable.
 *
 * <p>Thread-safety: not thread-safe. One writer at a time allocates; {@link #free()} must happen-after every
 * allocation. Readers never call the arena: they read nodes at the addresses the writer published.
 */
final class Arena {
    static final int MAX_CHUNK_BYTES = 1 << 20;
    static final int MIN_CHUNK_BYTES = 64;

    private final int chunkBytes;
    private final List<ByteBuffer> chunks = new ArrayList<>();

    private long currentAddress;
    private int currentCursor;
    private long usedBytes;
    private long reservedBytes;
    private boolean freed;

    Arena(int chunkBytes) {
        if (chunkBytes < MIN_CHUNK_BYTES || chunkBytes > (1 << 30) || chunkBytes % 8 != 0) {
            throw new IllegalArgumentException("chunkBytes " + chunkBytes + " outside [" + MIN_CHUNK_BYTES
                    + ", 2^30] or not a multiple of 8");
        }
        this.chunkBytes = chunkBytes;
    }

    /** Places a record of {@code length} bytes (a positive multiple of 8); returns its 8-aligned address. */
    long allocate(int length) {
        assert length > 0 && length % 8 == 0 : length;
        if (freed) {
            throw new IllegalStateException("arena already freed");
        }
        if (length > chunkBytes / 4) {
            long address = newChunk(length);
            usedBytes += length;
            return address;
        }
        if (currentAddress == 0 || chunkBytes - currentCursor < length) {
            // Allocate first: if direct memory runs out, the arena is left exactly as it was.
            long fresh = newChunk(chunkBytes);
            if (currentAddress != 0) {
                usedBytes += chunkBytes - currentCursor;
            }
            currentAddress = fresh;
            currentCursor = 0;
        }
        long address = currentAddress + currentCursor;
        currentCursor += length;
        usedBytes += length;
        assert usedBytes <= reservedBytes : usedBytes + " > " + reservedBytes;
        return address;
    }

    /** Record bytes plus abandoned chunk tails: see the class comment. */
    long usedBytes() {
        return usedBytes;
    }

    /** Direct memory allocated for chunks (and not yet freed). */
    long reservedBytes() {
        return freed ? 0 : reservedBytes;
    }

    int chunkBytes() {
        return chunkBytes;
    }

    int chunkCount() {
        return chunks.size();
    }

    boolean isFreed() {
        return freed;
    }

    /** Returns every chunk's memory now. REQUIRES: no reader can touch a chunk any more. Idempotent. */
    void free() {
        if (freed) {
            return;
        }
        freed = true;
        for (ByteBuffer chunk : chunks) {
            BufferUtil.free(chunk);
        }
        chunks.clear();
        currentAddress = 0;
    }

    private long newChunk(int capacity) {
        ByteBuffer chunk = ByteBuffer.allocateDirect(capacity);
        long address = BufferUtil.address(chunk);
        if ((address & 7) != 0) {
            BufferUtil.free(chunk);
            throw new IllegalStateException("direct memory at " + address + " is not 8-byte aligned");
        }
        chunks.add(chunk);
        reservedBytes += capacity;
        return address;
    }
}
