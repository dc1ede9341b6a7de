package dev.redoubt.sstable;

import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import org.agrona.DirectBuffer;

/**
 * Writes one SSTable (format: {@link SstDescriptor}; reasons: {@code docs/formats/sstable.md}). Entries are
 * added in strictly increasing internal order ({@link dev.redoubt.common.KeyOrder}); data blocks are cut at
 * about {@link SstOptions#blockBytes()} and written as they fill, so memory holds one data block, the index
 * and 8 bytes per distinct key for the filter. {@link #finish()} writes the index, filter, properties and
 * footer, then fsyncs the file. Publishing is the caller's: write under a temporary name, finish, rename,
 * fsync the directory. On any failure, {@link #abandon()} deletes the partial file.
 *
 * <p>Not thread-safe: one thread writes a table.
 */
public final class SstWriter implements AutoCloseable {
    private static final byte[] EMPTY = new byte[0];

    private final StorageEnv env;
    private final Path path;
    private final StorageFile file;
    private final TableOutput out;
    private final BlockWriter blocks;
    private final int blockBytes;
    private final boolean compression;
    private final BlockBuilder dataBlock;
    private final BlockBuilder indexBlock;
    private final BloomFilterBuilder filter;
    private final byte[] handle = new byte[SstDescriptor.HANDLE_LENGTH];

    /** The last key added is {@code lastKey[0, lastKeyLength)}; meaningful once {@code entries > 0}. */
    private byte[] lastKey = new byte[64];
    private int lastKeyLength;
    private long lastSequence;
    private byte[] smallestKey;

    private long entries;
    private long deletions;
    private long minSequence = Long.MAX_VALUE;
    private long maxSequence = Long.MIN_VALUE;
    private long dataBlockCount;
    private long rawKeyBytes;
    private long rawValueBytes;

    private State state = State.OPEN;

    private enum State { OPEN, FAILED, FINISHED, ABANDONED }

    /** Creates (or empties) the file at {@code path} and starts a table there. */
    public SstWriter(StorageEnv env, Path path, SstOptions options) {
        options.validate();
        this.env = Objects.requireNonNull(env, "env");
        this.path = Objects.requireNonNull(path, "path");
        this.blockBytes = options.blockBytes();
        this.compression = options.compression();
        this.dataBlock = new BlockBuilder(options.restartInterval(), blockBytes);
        this.indexBlock = new BlockBuilder(options.restartInterval(), 4096);
        this.filter = new BloomFilterBuilder(options.bloomBitsPerKey());
        this.file = create(env, path);
        this.out = new TableOutput(file);
        this.blocks = new BlockWriter(out);
    }

    /**
     * Adds an entry. REQUIRES: ({@code key}, {@code sequence}) sorts strictly after the previous entry in
     * internal order (else {@link IllegalStateException}); a DELETE's value is null or empty.
     *
     * @throws IllegalArgumentException a key or value over its {@link Limits} bound, a negative sequence
     */
    public void add(byte[] key, long sequence, EntryKind kind, byte[] value) {
        checkOpen();
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        byte[] v = value == null ? EMPTY : value;
        beginEntry(key, sequence, kind, v.length);
        dataBlock.add(key, sequence, kind, v, 0, v.length);
        endEntry(key, sequence, kind, v.length);
    }

    /**
     * As {@link #add(byte[], long, EntryKind, byte[])}, the value being {@code valueLength} bytes of the array
     * {@code value} from {@code valueOffset} (a compaction's reused buffer).
     */
    public void add(byte[] key, long sequence, EntryKind kind, byte[] value, int valueOffset, int valueLength) {
        checkOpen();
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.checkFromIndexSize(valueOffset, valueLength, value.length);
        beginEntry(key, sequence, kind, valueLength);
        dataBlock.add(key, sequence, kind, value, valueOffset, valueLength);
        endEntry(key, sequence, kind, valueLength);
    }

    /**
     * As {@link #add(byte[], long, EntryKind, byte[])}, the value being {@code valueLength} bytes of {@code value}
     * from {@code valueOffset}: a flush writes values straight from the memtable's arena, without a copy on the
     * heap.
     */
    public void add(byte[] key, long sequence, EntryKind kind, DirectBuffer value, int valueOffset, int valueLength) {
        checkOpen();
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(value, "value");
        value.boundsCheck(valueOffset, valueLength);
        beginEntry(key, sequence, kind, valueLength);
        dataBlock.add(key, sequence, kind, value, valueOffset, valueLength);
        endEntry(key, sequence, kind, valueLength);
    }

    private void beginEntry(byte[] key, long sequence, EntryKind kind, int valueLength) {
        checkArguments(key, sequence, kind, valueLength);
        checkOrder(key, sequence);
        if (entries == 0) {
            smallestKey = key.clone();
        }
        boolean newKey = entries == 0 || !Arrays.equals(lastKey, 0, lastKeyLength, key, 0, key.length);
        if (newKey) {
            filter.addKey(key);
        }
    }

    private void endEntry(byte[] key, long sequence, EntryKind kind, int valueLength) {
        rememberLast(key, sequence);
        entries++;
        deletions += kind == EntryKind.DELETE ? 1 : 0;
        minSequence = Math.min(minSequence, sequence);
        maxSequence = Math.max(maxSequence, sequence);
        rawKeyBytes += key.length;
        rawValueBytes += valueLength;
        if (dataBlock.estimatedBytes() >= blockBytes) {
            flushDataBlock();
        }
    }

    /**
     * Writes the index, filter, properties and footer, fsyncs and closes the file. The table is complete and
     * durable under its current name; the caller renames it into place and fsyncs the directory.
     *
     * @throws IllegalStateException no entry was added (abandon an empty table instead), or the index or
     *                               filter would exceed {@link SstDescriptor#MAX_META_BLOCK_BYTES}
     */
    public SstProperties finish() {
        checkOpen();
        if (entries == 0) {
            throw new IllegalStateException("SSTable " + path + " has no entries: abandon() it instead of"
                    + " finishing an empty table");
        }
        try {
            if (!dataBlock.isEmpty()) {
                flushDataBlock();
            }
            long dataBytes = out.position();
            ByteSink index = indexBlock.finish();
            checkMetaSize("index", index.length());
            BlockHandle indexHandle = write(() -> blocks.write(index.array(), index.length(), compression));
            byte[] filterContents = filter.finish();
            BlockHandle filterHandle = write(() -> blocks.write(filterContents, filterContents.length, false));
            SstProperties stored = new SstProperties(entries, deletions, minSequence, maxSequence, smallestKey,
                    Arrays.copyOf(lastKey, lastKeyLength), dataBlockCount, dataBytes, rawKeyBytes, rawValueBytes,
                    0, 0, 0);
            byte[] props = PropertiesBlock.encode(stored);
            BlockHandle propsHandle = write(() -> blocks.write(props, props.length, false));
            byte[] footer = new byte[SstDescriptor.FOOTER_LENGTH];
            SstDescriptor.writeFooter(footer, indexHandle, filterHandle, propsHandle);
            long fileBytes = propsHandle.end() + footer.length;
            write(() -> {
                out.append(footer, 0, footer.length);
                out.flush();
                file.force();
                file.close();
                return null;
            });
            state = State.FINISHED;
            return new SstProperties(entries, deletions, minSequence, maxSequence, smallestKey,
                    Arrays.copyOf(lastKey, lastKeyLength), dataBlockCount, dataBytes, rawKeyBytes, rawValueBytes,
                    indexHandle.end() - indexHandle.offset(), filterHandle.end() - filterHandle.offset(), fileBytes);
        } catch (RuntimeException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** Closes and deletes the file: for a failed or unwanted table. Idempotent; safe after any failure. */
    public void abandon() {
        if (state == State.ABANDONED) {
            return;
        }
        state = State.ABANDONED;
        try {
            file.close();
        } catch (IOException ignored) {
            // The file is being thrown away; only the delete below matters.
        }
        try {
            env.delete(path);
        } catch (IOException e) {
            throw StorageException.fromIo("deleting abandoned SSTable " + path, e);
        }
    }

    /** Abandons the table unless {@link #finish()} succeeded: a try-with-resources never leaves a partial file. */
    @Override
    public void close() {
        if (state != State.FINISHED) {
            abandon();
        }
    }

    /** Entries added so far. */
    public long entryCount() {
        return entries;
    }

    /** About what the file would take if finished now (without the filter): lets a compaction cut its outputs. */
    public long estimatedFileBytes() {
        return out.position() + dataBlock.estimatedBytes() + indexBlock.estimatedBytes()
                + SstDescriptor.FOOTER_LENGTH;
    }

    public Path path() {
        return path;
    }

    private static StorageFile create(StorageEnv env, Path path) {
        StorageFile f;
        try {
            f = env.openForWrite(path);
        } catch (IOException e) {
            throw StorageException.fromIo("creating SSTable " + path, e);
        }
        try {
            f.truncate(0);
            return f;
        } catch (IOException e) {
            StorageException failure = StorageException.fromIo("emptying SSTable " + path, e);
            try {
                f.close();
            } catch (IOException suppressed) {
                failure.addSuppressed(suppressed);
            }
            throw failure;
        }
    }

    private void checkArguments(byte[] key, long sequence, EntryKind kind, int valueLength) {
        if (key.length > Limits.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("key of " + key.length + " bytes exceeds the limit of "
                    + Limits.MAX_KEY_BYTES + " bytes (Limits.MAX_KEY_BYTES)");
        }
        if (valueLength > Limits.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value of " + valueLength + " bytes exceeds the limit of "
                    + Limits.MAX_VALUE_BYTES + " bytes (Limits.MAX_VALUE_BYTES)");
        }
        if (sequence < 0) {
            throw new IllegalArgumentException("sequence must be >= 0, got " + sequence);
        }
        if (kind == EntryKind.DELETE && valueLength != 0) {
            throw new IllegalArgumentException("a DELETE carries no value, got " + valueLength + " bytes");
        }
    }

    private void checkOrder(byte[] key, long sequence) {
        if (entries == 0) {
            return;
        }
        int c = Arrays.compareUnsigned(lastKey, 0, lastKeyLength, key, 0, key.length);
        if (c > 0 || (c == 0 && sequence >= lastSequence)) {
            throw new IllegalStateException("entries must be added in strictly increasing internal order (key"
                    + " ascending, then sequence descending): (" + Keys.describe(key) + ", " + sequence
                    + ") after (" + Keys.describe(lastKey, 0, lastKeyLength) + ", " + lastSequence + ")");
        }
    }

    private void checkOpen() {
        if (state != State.OPEN) {
            throw new IllegalStateException("SSTable writer for " + path + " is " + state.name().toLowerCase()
                    + (state == State.FAILED ? ": abandon() it" : ""));
        }
    }

    private static void checkMetaSize(String what, long bytes) {
        if (bytes > SstDescriptor.MAX_META_BLOCK_BYTES) {
            throw new IllegalStateException("the " + what + " block of " + bytes + " bytes exceeds the "
                    + SstDescriptor.MAX_META_BLOCK_BYTES + "-byte limit: write smaller tables");
        }
    }

    private void rememberLast(byte[] key, long sequence) {
        if (lastKey.length < key.length) {
            lastKey = Arrays.copyOf(lastKey, Math.max(key.length, 2 * lastKey.length));
        }
        System.arraycopy(key, 0, lastKey, 0, key.length);
        lastKeyLength = key.length;
        lastSequence = sequence;
    }

    /** Writes the data block and its index entry: the block's last key and sequence, and its handle. */
    private void flushDataBlock() {
        ByteSink contents = dataBlock.finish();
        assert contents.length() <= SstDescriptor.MAX_DATA_BLOCK_BYTES : contents.length();
        BlockHandle h = write(() -> blocks.write(contents.array(), contents.length(), compression));
        dataBlock.reset();
        SstDescriptor.writeHandle(handle, 0, h.offset(), h.size());
        indexBlock.add(Arrays.copyOf(lastKey, lastKeyLength), lastSequence, EntryKind.PUT, handle, 0, handle.length);
        dataBlockCount++;
    }

    /** Runs one step of file I/O; a failure leaves the writer FAILED (abandon it), as a storage error. */
    private <T> T write(IoStep<T> step) {
        try {
            return step.run();
        } catch (IOException e) {
            state = State.FAILED;
            throw StorageException.fromIo("writing SSTable " + path, e);
        }
    }

    @FunctionalInterface
    private interface IoStep<T> {
        T run() throws IOException;
    }
}
