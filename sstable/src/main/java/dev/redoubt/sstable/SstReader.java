package dev.redoubt.sstable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Found;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * An open SSTable. {@link #open} checks the footer, properties, filter and index (every length bounded by the
 * file and by {@link SstDescriptor}'s limits before anything is allocated for it) and pins the decoded index
 * and filter; data blocks are read on demand through the shared {@link BlockCache}, each checked against
 * its CRC32C when read from the file. Any damage found, at open or later, is an {@link SstCorruptionException}
 * ({@link ErrorCode#CORRUPTION}) naming the file, the byte offset and the problem.
 *
 * <p>Thread-safe: {@link #get}, {@link #mayContain}, {@link #iterator} and {@link #verify} may run from
 * any number of threads at once (the reader's state is immutable after open and reads are positional);
 * each iterator is used by one thread. {@link #close()} must not race with reads in flight: the engine
 * closes a table only when no version references it any more.
 */
public final class SstReader implements AutoCloseable {
    private final Path path;
    private final StorageFile file;
    private final BlockCache cache;
    private final long cacheOwner;
    private final Footer footer;
    private final SstProperties properties;
    private final BloomFilter filter;
    private final IndexBlock index;
    private volatile boolean closed;

    private SstReader(Path path, StorageFile file, BlockCache cache, Footer footer, SstProperties properties,
                      BloomFilter filter, IndexBlock index) {
        this.path = path;
        this.file = file;
        this.cache = cache;
        this.cacheOwner = cache.newOwnerId();
        this.footer = footer;
        this.properties = properties;
        this.filter = filter;
        this.index = index;
    }

    /**
     * Opens and checks the table at {@code path}.
     *
     * @param cache shared block cache ({@code new BlockCache(0)} for none)
     * @throws SstCorruptionException a truncated file, bad magic, checksum, length or structure
     * @throws StorageException       {@link ErrorCode#CORRUPTION} too when the file does not exist
     * @throws StorageException       {@link ErrorCode#INVALID_STATE} for a newer format version, {@link ErrorCode#IO}
     *                                when the file cannot be read
     */
    public static SstReader open(StorageEnv env, Path path, BlockCache cache) {
        Objects.requireNonNull(cache, "cache");
        StorageFile file;
        try {
            file = env.openForRead(path);
        } catch (NoSuchFileException e) {
            throw new StorageException(ErrorCode.CORRUPTION, "SSTable " + path + " does not exist: the database"
                    + " refers to a table that is gone. Restore it from a backup or a replica, or run"
                    + " `redoubt db repair`", e);
        } catch (IOException e) {
            throw StorageException.fromIo("opening SSTable " + path, e);
        }
        try {
            return load(path, file, cache);
        } catch (RuntimeException e) {
            closeQuietly(file, e);
            throw e;
        }
    }

    private static SstReader load(Path path, StorageFile file, BlockCache cache) {
        long size;
        byte[] footerBytes = new byte[SstDescriptor.FOOTER_LENGTH];
        try {
            size = file.size();
            if (size < SstDescriptor.FOOTER_LENGTH) {
                throw new SstCorruptionException(path, 0, "the file is " + size + " bytes, shorter than the "
                        + SstDescriptor.FOOTER_LENGTH + "-byte footer: truncated, or not an SSTable");
            }
            file.readFully(size - SstDescriptor.FOOTER_LENGTH, ByteBuffer.wrap(footerBytes));
        } catch (IOException e) {
            throw StorageException.fromIo("reading the footer of SSTable " + path, e);
        }
        Footer footer = Footer.decode(footerBytes, size, path);
        BlockContents props = BlockReader.read(file, path, footer.properties(), SstDescriptor.MAX_META_BLOCK_BYTES,
                "properties");
        checkRaw(props, path, footer.properties(), "properties");
        SstProperties properties = PropertiesBlock.decode(props.bytes(), props.length(), path,
                footer.properties().offset(), footer);
        BlockContents filterContents = BlockReader.read(file, path, footer.filter(),
                SstDescriptor.MAX_META_BLOCK_BYTES, "filter");
        checkRaw(filterContents, path, footer.filter(), "filter");
        BloomFilter filter = BloomFilter.decode(filterContents.bytes(), filterContents.length(), path,
                footer.filter().offset());
        BlockContents indexContents = BlockReader.read(file, path, footer.index(), SstDescriptor.MAX_META_BLOCK_BYTES,
                "index");
        Block indexBlock = Block.parse(indexContents, path, footer.index().offset(), "index");
        IndexBlock index = IndexBlock.decode(indexBlock, footer.index().offset());
        if (index.blockCount() != properties.dataBlockCount()) {
            throw new SstCorruptionException(path, footer.index().offset(), "the index lists " + index.blockCount()
                    + " data blocks, the properties " + properties.dataBlockCount());
        }
        int last = index.blockCount() - 1;
        if (!Arrays.equals(index.lastKey(last), properties.largestKey())) {
            throw new SstCorruptionException(path, footer.index().offset(), "the index's last key "
                    + Keys.describe(index.lastKey(last)) + " differs from the properties' largest key "
                    + Keys.describe(properties.largestKey()));
        }
        return new SstReader(path, file, cache, footer, properties, filter, index);
    }

    /** The filter and properties blocks are never compressed (see {@link SstDescriptor}). */
    private static void checkRaw(BlockContents c, Path path, BlockHandle h, String kind) {
        if (c.compressed()) {
            throw new SstCorruptionException(path, h.offset() + h.size(), kind
                    + " block is compressed; the format stores it raw");
        }
    }

    /**
     * The newest version of {@code key} with sequence {@code <= snapshotSequence}, or null when this table
     * has none (a DELETE is returned as such: it hides older tables' versions). Consults the filter first, so
     * most lookups of absent keys read no block.
     */
    public Found get(byte[] key, long snapshotSequence) {
        checkOpen();
        if (!filter.mayContain(key)) {
            return null;
        }
        int b = index.find(key, snapshotSequence);
        if (b == index.blockCount()) {
            return null;
        }
        BlockCursor cursor = new BlockCursor().reset(block(b));
        cursor.seek(key, snapshotSequence);
        // The index promised an entry at or after the target in this block; the first such entry is the answer
        // when its key matches, since versions of a key sort newest first.
        if (!cursor.valid() || !cursor.keyEquals(key)) {
            return null;
        }
        EntryKind kind = cursor.kind();
        byte[] value = Arrays.copyOfRange(cursor.blockBytes(), cursor.valueOffset(),
                cursor.valueOffset() + cursor.valueLength());
        return new Found(kind, cursor.sequence(), value);
    }

    /** Whether the filter lets {@code key} be in this table (false: certainly absent). */
    public boolean mayContain(byte[] key) {
        checkOpen();
        return filter.mayContain(key);
    }

    /**
     * A new iterator over every entry in internal order, not yet positioned: call {@link EntryIterator#seek}
     * or {@link EntryIterator#seekToFirst}. Single-threaded; close it when done.
     */
    public EntryIterator iterator() {
        checkOpen();
        return new TableIterator(this);
    }

    public SstProperties properties() {
        return properties;
    }

    /**
     * Reads every data block from the file (bypassing the cache) and checks its checksum, its entries, the
     * order of all entries, and that the index, filter and properties agree with them.
     *
     * @throws SstCorruptionException at the first problem, naming its offset
     */
    public void verify() {
        checkOpen();
        new TableVerifier(this).run();
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            file.close();
        } catch (IOException e) {
            throw StorageException.fromIo("closing SSTable " + path, e);
        }
    }

    @Override
    public String toString() {
        return "SstReader{" + path + ", " + properties + '}';
    }

    // ---------------------------------------------------------------- package-private, for iterators and verify

    IndexBlock index() {
        return index;
    }

    BloomFilter filter() {
        return filter;
    }

    Footer footer() {
        return footer;
    }

    /** Data block {@code b}, from the cache or else read, checked and cached. */
    Block block(int b) {
        long offset = index.offset(b);
        Block cached = cache.get(cacheOwner, offset);
        if (cached != null) {
            return cached;
        }
        Block read = readBlock(b);
        cache.put(cacheOwner, offset, read);
        return read;
    }

    /** Data block {@code b}, read from the file and checked, not cached. */
    Block readBlock(int b) {
        checkOpen();
        BlockHandle h = new BlockHandle(index.offset(b), index.size(b));
        return Block.parse(BlockReader.read(file, path, h, SstDescriptor.MAX_DATA_BLOCK_BYTES, "data"), path,
                h.offset(), "data");
    }

    private void checkOpen() {
        if (closed) {
            throw new StorageException(ErrorCode.CLOSED, "SSTable " + path + " is closed");
        }
    }

    private static void closeQuietly(StorageFile file, RuntimeException failure) {
        try {
            file.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
