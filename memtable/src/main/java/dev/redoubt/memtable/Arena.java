package dev.redoubt.memtable;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A bump allocator over off-heap chunks: the bytes of a memtable's keys and values (LevelDB's {@code Arena}).
 *
 * <p>Placement rule (it defines what {@link #usedBytes()} counts, so it is the accounting rule too):
 * <ul>
 *   <li>A record of 0 bytes takes no space (it points into a shared empty buffer).</li>
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
 * <p>Chunks are {@link ByteBuffer#allocateDirect} buffers wrapped by {@link UnsafeBuffer}s. {@link #free()}
 * returns them at once (their cleaner); a chunk nobody freed is still returned by the GC when unreachable.
 *
 * <p>Thread-safety: not thread-safe. One writer at a time allocates, and only that writer may call
 * {@link #undoLast()}; {@link #free()} must happen-after every allocation. Readers never call the arena: they
 * read bytes through the {@link UnsafeBuffer} a {@link Version} holds, which a writer fills before it
 * publishes the version.
 */
final class Arena {
    static final int MAX_CHUNK_BYTES = 1 << 20;
    static final int MIN_CHUNK_BYTES = 16;
    static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);

    private final int chunkBytes;
    private final List<ByteBuffer> chunks = new ArrayList<>();

    private UnsafeBuffer current;
    private int currentCursor;
    private long usedBytes;
    private long reservedBytes;
    private boolean freed;

    /** Where the last {@link #allocate} placed its record (a flyweight result, so allocation allocates nothing). */
    private UnsafeBuffer lastBuffer;
    private int lastOffset;

    /** State before the last allocation, so that {@link #undoLast()} can restore it exactly. */
    private UnsafeBuffer undoCurrent;
    private int undoCursor;
    private long undoUsedBytes;
    private long undoReservedBytes;
    private int undoChunkCount;

    Arena(int chunkBytes) {
        if (chunkBytes < MIN_CHUNK_BYTES || chunkBytes > (1 << 30)) {
            throw new IllegalArgumentException("chunkBytes " + chunkBytes + " outside [" + MIN_CHUNK_BYTES + ", 2^30]");
        }
        this.chunkBytes = chunkBytes;
    }

    /** Places a record of {@code length} bytes; read the place with {@link #lastBuffer()}, {@link #lastOffset()}. */
    void allocate(int length) {
        assert length >= 0 : length;
        if (freed) {
            throw new IllegalStateException("arena already freed");
        }
        undoCurrent = current;
        undoCursor = currentCursor;
        undoUsedBytes = usedBytes;
        undoReservedBytes = reservedBytes;
        undoChunkCount = chunks.size();
        if (length == 0) {
            lastBuffer = EMPTY;
            lastOffset = 0;
            return;
        }
        if (length > chunkBytes / 4) {
            lastBuffer = newChunk(length);
            lastOffset = 0;
            usedBytes += length;
            return;
        }
        if (current == null || chunkBytes - currentCursor < length) {
            // Allocate first: if direct memory runs out, the arena is left exactly as it was.
            UnsafeBuffer fresh = newChunk(chunkBytes);
            if (current != null) {
                usedBytes += chunkBytes - currentCursor;
            }
            current = fresh;
            currentCursor = 0;
        }
        lastBuffer = current;
        lastOffset = currentCursor;
        currentCursor += length;
        usedBytes += length;
        assert usedBytes <= reservedBytes : usedBytes + " > " + reservedBytes;
    }

    /** Takes back the last allocation (its version was rejected before anyone could see it). */
    void undoLast() {
        while (chunks.size() > undoChunkCount) {
            BufferUtil.free(chunks.remove(chunks.size() - 1));
        }
        current = undoCurrent;
        currentCursor = undoCursor;
        usedBytes = undoUsedBytes;
        reservedBytes = undoReservedBytes;
        lastBuffer = null;
    }

    UnsafeBuffer lastBuffer() {
        return lastBuffer;
    }

    int lastOffset() {
        return lastOffset;
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
        current = null;
        lastBuffer = null;
        undoCurrent = null;
    }

    private UnsafeBuffer newChunk(int capacity) {
        ByteBuffer chunk = ByteBuffer.allocateDirect(capacity);
        chunks.add(chunk);
        reservedBytes += capacity;
        return new UnsafeBuffer(chunk);
    }
}
