package dev.redoubt.memtable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Found;
import dev.redoubt.common.KeyOrder;
import dev.redoubt.common.Limits;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The sorted in-memory write buffer: every version of every key written since the last flush, in
 * {@link KeyOrder} internal order (key ascending as unsigned bytes, then sequence descending), versioned by
 * sequence (batch LSN + op index) so that reads at a snapshot sequence see a consistent point, with tombstones
 * ({@link EntryKind#DELETE}) that hide older versions.
 *
 * <h2>Layout</h2>
 * One skip list whose nodes live in an off-heap {@link Arena} of fixed-size chunks ({@code ByteBuffer.allocateDirect}):
 * each node holds one version's sequence, kind, key and value and its links, addressed by absolute address
 * ({@link MemtableNode} has the byte layout and the publication protocol). Nothing per entry is a Java object:
 * the heap does not grow with the memtable, the collector never copies or scans its entries, and an insert
 * compares keys in the nodes it walks (the first 8 key bytes sit next to the links) instead of chasing a
 * reference from a node to a version to a buffer. Freeing is one call per chunk. Heights are drawn as in
 * LevelDB (a level more with probability 1/4, at most {@link MemtableNode#MAX_HEIGHT}) from a generator with a
 * fixed seed, so the same adds give the same list and the same memory figure.
 *
 * <h2>Memory accounting (exact and deterministic)</h2>
 * <pre>
 *   memoryBytes = arena used bytes
 *               = the head node (128 bytes, at the first add)
 *                 + per entry: MemtableNode.size(height, key length, value length) (32 + 8 x height + key + value,
 *                   rounded up to 8; about 43 bytes of overhead on average)
 *                 + every abandoned chunk tail
 * </pre>
 * Placement (see {@link Arena}): a node of more than a quarter of a chunk gets its own chunk of exactly its
 * size; any other node goes at the cursor of the current chunk, and when it does not fit there the rest of
 * that chunk is abandoned (counted: it holds nothing and never will) and a fresh chunk starts. Only the free
 * tail of the current chunk, less than one chunk, is reserved but not counted. What a memtable is charged is
 * what it holds: a 64 MiB memtable holds 64 MiB of direct memory and no heap per entry. The figure depends only
 * on the sequence of adds, never on timing or on the JVM.
 *
 * <h2>Deviations from the sketch, with reasons</h2>
 * <ul>
 *   <li>A record gets its own chunk above a quarter of the chunk size (not only above the chunk size), as in
 *       LevelDB's arena: so no more than a quarter of any chunk is ever abandoned.</li>
 *   <li>The chunk size is {@code capacity / 16} rounded down to a power of two, clamped to [4 KiB, 1 MiB]: a
 *       64 MiB memtable uses 1 MiB chunks, while the small memtables of tests and tiny configurations do not
 *       reserve a whole MiB each.</li>
 *   <li>{@link #get} pins the memtable like an iterator does (one atomic increment and decrement): a lookup
 *       racing {@link #close()} must not read freed memory either.</li>
 * </ul>
 *
 * <h2>Thread-safety</h2>
 * <ul>
 *   <li>{@link #add}: REQUIRES: the caller serializes add() (one writer at a time; the engine's write path
 *       does). Checked by an assertion when assertions are enabled. add() may run concurrently with any number
 *       of readers.</li>
 *   <li>{@link #get}, {@link #iterator}, the counters and {@link #markImmutable()}, {@link #close()}: any
 *       thread, any time. A version becomes visible atomically and whole: its node is written before a release
 *       store links it in, and readers follow links with acquire loads, so no reader ever sees a torn entry.</li>
 *   <li>The counters ({@link #entryCount()}, {@link #memoryBytes()}, {@link #minSequence()},
 *       {@link #maxSequence()}) are updated just after the version is visible: a reader that observes them sees
 *       at least the versions they count, and they may briefly lag what get() and iterators already see (they
 *       are not linearizable with reads; the engine publishes its own visible sequence).</li>
 *   <li>An {@link EntryIterator} from {@link #iterator} is used by one thread at a time (its own contract).</li>
 * </ul>
 *
 * <h2>Lifetime</h2>
 * The memtable starts with one reference, its owner's. {@link #iterator} and each {@link #get} take one more;
 * {@link #close()} drops the owner's. The arena is freed by whoever drops the last reference, so close() never
 * blocks and never frees memory a reader may still touch: with iterators open it defers the free to the last
 * iterator's close(). After close(), add/get/iterator throw {@link IllegalStateException}; open iterators keep
 * working until they are closed. An iterator that is never closed keeps the chunks until the GC finds them
 * unreachable (direct buffers have cleaners), so a leak costs memory for a while, never safety.
 */
public final class Memtable implements AutoCloseable {

    /** What {@link #minSequence()} and {@link #maxSequence()} return while the memtable is empty. */
    public static final long NO_SEQUENCE = -1;

    static final byte[] EMPTY_BYTES = new byte[0];
    static final int MIN_DEFAULT_CHUNK_BYTES = 4 * 1024;

    private final long capacityBytes;
    private final Arena arena;
    /** Where each add draws its node's height: {@link #randomHeight()}, or a fixed rule in tests. */
    private final IntSupplier heights;
    /** The head node's address, 0 until the first add allocates it. */
    private volatile long head;
    /** The tallest node's height (at least 1): levels above it are empty. */
    private volatile int maxHeight = 1;
    /** The writer's scratch: each level's last node before the insert position. */
    private final long[] predecessors = new long[MemtableNode.MAX_HEIGHT];
    /** The writer's height generator state (xorshift64*, fixed seed). */
    private long heightState = 0x9E3779B97F4A7C15L;

    /** The owner's reference plus one per open iterator and per get() in progress; 0 = freed. */
    private final AtomicInteger references = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Only used by the assertion that checks "REQUIRES: the caller serializes add()". */
    private final AtomicBoolean adding = new AtomicBoolean();

    private volatile boolean immutable;
    // Written only by the (single) writer, after the version they count is visible; read by anyone.
    private volatile long entryCount;
    private volatile long memoryBytes;
    private volatile long minSequence = NO_SEQUENCE;
    private volatile long maxSequence = NO_SEQUENCE;

    /**
     * A memtable that reports {@link #isFull()} once {@link #memoryBytes()} reaches {@code capacityBytes}.
     * Allocates no memory until the first add.
     */
    public Memtable(long capacityBytes) {
        this(capacityBytes, defaultChunkBytes(capacityBytes));
    }

    /** With an explicit chunk size, for tests of the placement rule. */
    Memtable(long capacityBytes, int chunkBytes) {
        this(capacityBytes, chunkBytes, null);
    }

    /** With an explicit chunk size and node heights ({@code null}: drawn as in production), for tests. */
    Memtable(long capacityBytes, int chunkBytes, IntSupplier heights) {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacityBytes must be positive, got " + capacityBytes);
        }
        this.capacityBytes = capacityBytes;
        this.arena = new Arena(chunkBytes);
        this.heights = heights != null ? heights : this::randomHeight;
    }

    /** {@code capacity / 16} rounded down to a power of two, within [4 KiB, 1 MiB]. */
    static int defaultChunkBytes(long capacityBytes) {
        long chunk = Long.highestOneBit(Math.max(1, capacityBytes / 16));
        return (int) Math.max(MIN_DEFAULT_CHUNK_BYTES, Math.min(Arena.MAX_CHUNK_BYTES, chunk));
    }

    /**
     * Adds one version. REQUIRES: the caller serializes add() (one writer at a time); concurrent readers are fine.
     * The version is visible to readers whole when this returns (possibly earlier, never torn).
     *
     * <p>An add is accepted even if it takes the memtable past its capacity: {@link #isFull()} then turns true
     * and the engine switches to a new memtable after this add, so a batch is never split or refused here.
     *
     * @param key      at most {@link Limits#MAX_KEY_BYTES}; may be empty
     * @param sequence the batch LSN + op index; {@code >= 0}; sequences need not increase across adds
     * @param kind     {@link EntryKind#PUT} or {@link EntryKind#DELETE} (a tombstone)
     * @param value    at most {@link Limits#MAX_VALUE_BYTES}; may be empty; must be null or empty for a DELETE
     * @throws IllegalArgumentException a bound is exceeded, a negative sequence, a DELETE with a value
     * @throws IllegalStateException    this (key, sequence) is already here (left unchanged), or the memtable is
     *                                  immutable or closed
     */
    public void add(byte[] key, long sequence, EntryKind kind, byte[] value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        byte[] v = checkValue(kind, value);
        checkBounds(key.length, sequence, v.length);
        add(key, MemtableNode.BYTE_ARRAY_BASE, key.length, sequence, kind, v, MemtableNode.BYTE_ARRAY_BASE, v.length);
    }

    /**
     * As {@link #add(byte[], long, EntryKind, byte[])}, the key and value read from {@code source} at their
     * offsets: nothing is allocated on the heap (the write path decodes a batch straight into the arena).
     *
     * @param valueLength must be 0 for a DELETE
     */
    public void add(DirectBuffer source, int keyOffset, int keyLength, long sequence, EntryKind kind, int valueOffset,
                    int valueLength) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(kind, "kind");
        if (kind == EntryKind.DELETE && valueLength != 0) {
            throw new IllegalArgumentException("a DELETE carries no value, got " + valueLength + " bytes");
        }
        checkBounds(keyLength, sequence, valueLength);
        source.boundsCheck(keyOffset, keyLength);
        source.boundsCheck(valueOffset, valueLength);
        long address = source.addressOffset();
        Object base = source.byteArray();
        add(base, address + keyOffset, keyLength, sequence, kind, base, address + valueOffset, valueLength);
    }

    private void add(Object keyBase, long keyAddress, int keyLength, long sequence, EntryKind kind, Object valueBase,
                     long valueAddress, int valueLength) {
        if (immutable) {
            throw new IllegalStateException("memtable is immutable: add to the new active memtable");
        }
        acquire();
        assert enterAdd();
        try {
            insert(keyBase, keyAddress, keyLength, sequence, kind, valueBase, valueAddress, valueLength);
        } finally {
            assert exitAdd();
            release();
        }
    }

    private void insert(Object keyBase, long keyAddress, int keyLength, long sequence, EntryKind kind,
                        Object valueBase, long valueAddress, int valueLength) {
        long h = head;
        if (h == 0) {
            h = arena.allocate(MemtableNode.size(MemtableNode.MAX_HEIGHT, 0, 0));
            MemtableNode.writeHead(h);
            head = h;
        }
        long prefix = MemtableNode.prefixOf(keyBase, keyAddress, keyLength);
        long[] prev = predecessors;
        long at = findGreaterOrEqual(h, keyBase, keyAddress, keyLength, prefix, sequence, prev);
        if (at != 0 && MemtableNode.compareTo(at, keyBase, keyAddress, keyLength, prefix, sequence) == 0) {
            throw new IllegalStateException("key " + describe(MemtableNode.key(at)) + " at sequence " + sequence
                    + " is already in this memtable: a (key, sequence) pair is added once (redo must skip what"
                    + " the memtable holds)");
        }
        int height = heights.getAsInt();
        if (height < 1 || height > MemtableNode.MAX_HEIGHT) {
            throw new IllegalStateException("node height " + height + " outside 1.." + MemtableNode.MAX_HEIGHT);
        }
        int max = maxHeight;
        if (height > max) {
            for (int level = max; level < height; level++) {
                prev[level] = h;
            }
            // Readers that see the new height before the links find the head's upper links still 0 and go
            // down a level: harmless.
            maxHeight = height;
        }
        long node = arena.allocate(MemtableNode.size(height, keyLength, valueLength));
        MemtableNode.write(node, height, sequence, kind, keyBase, keyAddress, keyLength, prefix, valueBase,
                valueAddress, valueLength);
        for (int level = 0; level < height; level++) {
            MemtableNode.setNextUnpublished(node, level, MemtableNode.next(prev[level], level));
            MemtableNode.linkNext(prev[level], level, node);
        }
        long count = entryCount + 1;
        entryCount = count;
        memoryBytes = arena.usedBytes();
        if (minSequence == NO_SEQUENCE || sequence < minSequence) {
            minSequence = sequence;
        }
        if (sequence > maxSequence) {
            maxSequence = sequence;
        }
    }

    /**
     * The newest version of {@code key} with sequence {@code <= snapshotSequence}: a PUT with its value, or a
     * DELETE (empty value) meaning the key is deleted as of that version; null if this memtable holds no such
     * version (look in older tables). Any thread.
     *
     * @throws IllegalStateException the memtable is closed
     */
    public Found get(byte[] key, long snapshotSequence) {
        Objects.requireNonNull(key, "key");
        acquire();
        try {
            long h = head;
            if (h == 0) {
                return null;
            }
            // The first version at or after (key, snapshot) in internal order: the newest one <= snapshot,
            // if the key has one, else some greater key.
            long base = MemtableNode.BYTE_ARRAY_BASE;
            long found = findGreaterOrEqual(h, key, base, key.length, MemtableNode.prefixOf(key, base, key.length),
                    snapshotSequence, null);
            if (found == 0 || !MemtableNode.hasKey(found, key, base, key.length)) {
                return null;
            }
            return new Found(MemtableNode.kind(found), MemtableNode.sequence(found), MemtableNode.value(found));
        } finally {
            release();
        }
    }

    /**
     * A cursor over every version with sequence {@code <= snapshotSequence}, in internal order. It starts
     * unpositioned: call {@link EntryIterator#seekToFirst()} or {@link EntryIterator#seek}. Safe while adds
     * proceed: it sees every version that existed when it was created (or positioned), may or may not see later
     * ones, and never a torn one. It pins the memtable's memory until closed: close it.
     *
     * @throws IllegalStateException the memtable is closed
     */
    public EntryIterator iterator(long snapshotSequence) {
        acquire();
        try {
            return new MemtableIterator(this, snapshotSequence);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    /** Receives every version of a memtable in internal order ({@link #forEachVersion}). */
    public interface VersionVisitor {
        /**
         * One version. {@code value} is a view of the arena, valid only during the call ({@code valueLength}
         * bytes from {@code valueOffset}; empty for a DELETE); {@code key} is the caller's to keep.
         */
        void visit(byte[] key, long sequence, EntryKind kind, DirectBuffer value, int valueOffset, int valueLength)
                throws IOException;
    }

    /**
     * Hands every version, in internal order, to {@code visitor}: what a flush writes. The values are not copied
     * onto the heap (a flush of 1 KiB values would otherwise allocate as many bytes as the memtable holds). Any
     * thread; sees at least the versions added before the call.
     *
     * @throws IllegalStateException the memtable is closed
     */
    public void forEachVersion(VersionVisitor visitor) throws IOException {
        acquire();
        try {
            long h = head;
            if (h == 0) {
                return;
            }
            UnsafeBuffer view = new UnsafeBuffer(0, 0);
            for (long node = MemtableNode.next(h, 0); node != 0; node = MemtableNode.next(node, 0)) {
                int valueLength = MemtableNode.valueLength(node);
                long valueAddress = MemtableNode.keyAddress(node, MemtableNode.height(node))
                        + MemtableNode.keyLength(node);
                if (valueLength > 0) {
                    view.wrap(valueAddress, valueLength);
                } else {
                    view.wrap(0, 0);
                }
                visitor.visit(MemtableNode.key(node), MemtableNode.sequence(node), MemtableNode.kind(node), view, 0,
                        valueLength);
            }
        } finally {
            release();
        }
    }

    /**
     * The first node at or after ({@code key}, {@code sequence}) in internal order, or 0; when {@code prev} is
     * given (the writer), each level's last node before that position is left in it. Any thread.
     */
    long findGreaterOrEqual(long head, Object keyBase, long keyAddress, int keyLength, long prefix, long sequence,
                            long[] prev) {
        long x = head;
        int level = maxHeight - 1;
        for (;;) {
            long next = MemtableNode.next(x, level);
            if (next != 0 && MemtableNode.compareTo(next, keyBase, keyAddress, keyLength, prefix, sequence) < 0) {
                x = next;
            } else {
                if (prev != null) {
                    prev[level] = x;
                }
                if (level == 0) {
                    return next;
                }
                level--;
            }
        }
    }

    /** The head node's address, 0 before the first add. */
    long head() {
        return head;
    }

    /**
     * A node height as LevelDB draws it: 1, plus one more level with probability 1/4 each time, at most
     * {@link MemtableNode#MAX_HEIGHT}. Two bits of one xorshift64* draw per level.
     */
    private int randomHeight() {
        long x = heightState;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        heightState = x;
        long bits = x * 0x2545F4914F6CDD1DL;
        int height = 1;
        while (height < MemtableNode.MAX_HEIGHT && (bits >>> (64 - 2 * height) & 3) == 0) {
            height++;
        }
        return height;
    }

    /** Exact memory held, by the rule in the class comment. Any thread. */
    public long memoryBytes() {
        return memoryBytes;
    }

    public long capacityBytes() {
        return capacityBytes;
    }

    /** Whether {@link #memoryBytes()} has reached the capacity; the last add may have gone past it. */
    public boolean isFull() {
        return memoryBytes >= capacityBytes;
    }

    /** Refuses every later add (they throw {@link IllegalStateException}); reads go on. Idempotent. */
    public void markImmutable() {
        immutable = true;
    }

    public boolean isImmutable() {
        return immutable;
    }

    public long entryCount() {
        return entryCount;
    }

    /** The smallest sequence added, or {@link #NO_SEQUENCE} if empty. */
    public long minSequence() {
        return minSequence;
    }

    /** The largest sequence added, or {@link #NO_SEQUENCE} if empty. */
    public long maxSequence() {
        return maxSequence;
    }

    /**
     * Drops the owner's reference: the off-heap memory is freed now if no iterator (or get) is open, else when the
     * last one closes. Never blocks. Idempotent. Later add/get/iterator calls throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    @Override
    public String toString() {
        return "Memtable[entries=" + entryCount + ", memoryBytes=" + memoryBytes + ", capacityBytes=" + capacityBytes
                + ", sequences=" + minSequence + ".." + maxSequence + (immutable ? ", immutable" : "")
                + (closed.get() ? ", closed" : "") + "]";
    }

    /** Pins the arena. Never revives a freed memtable: it increments only from a positive count. */
    void acquire() {
        for (;;) {
            int refs = references.get();
            if (refs <= 0 || closed.get()) {
                throw new IllegalStateException("memtable is closed");
            }
            if (references.compareAndSet(refs, refs + 1)) {
                return;
            }
        }
    }

    /**
     * Unpins; the last reference frees the arena. Every writer's add() released before, so the free
     * happens-after every allocation (the decrements form one release sequence on {@code references}).
     */
    void release() {
        int refs = references.decrementAndGet();
        assert refs >= 0 : "released more references than were taken";
        if (refs == 0) {
            arena.free();
        }
    }

    /** References held now: 1 for the owner until close(), plus open iterators and gets in progress. */
    int references() {
        return references.get();
    }

    /** Whether the off-heap memory has been returned. */
    boolean isReleased() {
        return arena.isFreed();
    }

    /** Direct memory allocated for chunks and not yet freed (at least the arena's used bytes). */
    long arenaReservedBytes() {
        return arena.reservedBytes();
    }

    int chunkBytes() {
        return arena.chunkBytes();
    }

    private boolean enterAdd() {
        if (!adding.compareAndSet(false, true)) {
            throw new AssertionError("add() called concurrently: REQUIRES: the caller serializes add()");
        }
        return true;
    }

    private boolean exitAdd() {
        adding.set(false);
        return true;
    }

    private static byte[] checkValue(EntryKind kind, byte[] value) {
        if (kind == EntryKind.DELETE) {
            if (value != null && value.length != 0) {
                throw new IllegalArgumentException("a DELETE carries no value, got " + value.length + " bytes");
            }
            return EMPTY_BYTES;
        }
        return Objects.requireNonNull(value, "value of a PUT (use an empty array for an empty value)");
    }

    private static void checkBounds(int keyLength, long sequence, int valueLength) {
        if (keyLength < 0 || valueLength < 0) {
            throw new IllegalArgumentException("negative length: key " + keyLength + ", value " + valueLength);
        }
        if (keyLength > Limits.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("key is " + keyLength + " bytes, over the limit of "
                    + Limits.MAX_KEY_BYTES + " bytes (Limits.MAX_KEY_BYTES)");
        }
        if (valueLength > Limits.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value is " + valueLength + " bytes, over the limit of "
                    + Limits.MAX_VALUE_BYTES + " bytes (Limits.MAX_VALUE_BYTES)");
        }
        if (sequence < 0) {
            throw new IllegalArgumentException("sequence must be >= 0 (a WAL LSN + op index), got " + sequence);
        }
    }

    /** A short printable form of a key for messages: hex, cut after 32 bytes. */
    static String describe(byte[] key) {
        StringBuilder sb = new StringBuilder("0x");
        int shown = Math.min(key.length, 32);
        for (int i = 0; i < shown; i++) {
            sb.append(Character.forDigit((key[i] >> 4) & 0xF, 16)).append(Character.forDigit(key[i] & 0xF, 16));
        }
        if (shown < key.length) {
            sb.append("...(").append(key.length).append(" bytes)");
        }
        return sb.toString();
    }
}
