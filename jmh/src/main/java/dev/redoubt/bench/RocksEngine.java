package dev.redoubt.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.infra.Blackhole;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * RocksDB (rocksdbjni, same JVM, same run) set up to do the same work as {@link RedoubtEngine}:
 *
 * <table>
 *   <caption>What is held equal</caption>
 *   <tr><th>setting</th><th>Redoubt ({@code DbOptions.defaults()})</th><th>RocksDB (here)</th></tr>
 *   <tr><td>WAL</td><td>on</td><td>on ({@code disableWAL=false}, the default)</td></tr>
 *   <tr><td>SYNC write</td><td>{@code WriteOptions.SYNC}: after fsync</td><td>{@code setSync(true)}: after fsync</td></tr>
 *   <tr><td>ASYNC write</td><td>{@code WriteOptions.ASYNC}: after the OS write (plus an fsync every 20 ms in the
 *       background)</td><td>{@code setSync(false)}: after the OS write (no periodic fsync)</td></tr>
 *   <tr><td>block compression</td><td>LZ4</td><td>{@code LZ4_COMPRESSION} (every level)</td></tr>
 *   <tr><td>block size, filter</td><td>4 KiB, bloom 10 bits/key</td><td>4 KiB, {@code BloomFilter(10)}</td></tr>
 *   <tr><td>block cache</td><td>64 MiB</td><td>{@code LRUCache(64 MiB)}</td></tr>
 *   <tr><td>memtable</td><td>64 MiB, 1 active + 2 immutable before stalling</td><td>{@code write_buffer_size}
 *       64 MiB, {@code max_write_buffer_number=3}</td></tr>
 *   <tr><td>close</td><td>no flush (the memtable stays in the WAL)</td><td>{@code avoid_flush_during_shutdown=true}</td></tr>
 *   <tr><td>open</td><td>redo into the memtable, no table written</td><td>{@code avoid_flush_during_recovery=true}
 *       (else RocksDB writes the replayed memtable to level 0 during open and drops the WAL)</td></tr>
 * </table>
 *
 * <p>Everything else is RocksDB's default: leveled compaction (level-0 trigger 4, 256 MiB level base, x10),
 * {@code max_background_jobs=2} (Redoubt has one background thread for flushes and compactions), CRC32C block
 * checksums verified on read, index and filter blocks held by the table readers outside the block cache (as
 * Redoubt does), statistics off.
 */
final class RocksEngine implements KvEngine {
    static {
        RocksDB.loadLibrary();
    }

    private static final int MAX_LEVELS = 7;

    private final Path dir;
    private final LRUCache cache;
    private final BloomFilter filter;
    private final Options options;
    private final WriteOptions syncWrites;
    private final WriteOptions asyncWrites;
    private final ReadOptions reads;
    private final RocksDB db;

    RocksEngine(Path dir, Config config) {
        this.dir = dir;
        cache = new LRUCache(config.blockCacheBytes());
        filter = new BloomFilter(10);
        BlockBasedTableConfig table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setBlockSize(4096)
                .setFilterPolicy(filter);
        options = new Options()
                .setCreateIfMissing(true)
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setWriteBufferSize(config.memtableBytes())
                .setMaxWriteBufferNumber(3)
                .setAvoidFlushDuringShutdown(true)
                .setAvoidFlushDuringRecovery(true)
                .setTableFormatConfig(table);
        syncWrites = new WriteOptions().setSync(true);
        asyncWrites = new WriteOptions().setSync(false);
        reads = new ReadOptions();
        try {
            db = RocksDB.open(options, dir.toString());
        } catch (RocksDBException e) {
            closeOptions();
            throw new IllegalStateException("RocksDB.open(" + dir + ") failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return ROCKSDB;
    }

    @Override
    public void put(byte[] key, byte[] value, boolean sync) {
        try {
            db.put(sync ? syncWrites : asyncWrites, key, value);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void putBatch(byte[][] keys, byte[][] values, int n, boolean sync) {
        try (WriteBatch batch = new WriteBatch()) {
            for (int i = 0; i < n; i++) {
                batch.put(keys[i], values[i]);
            }
            db.write(sync ? syncWrites : asyncWrites, batch);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public byte[] get(byte[] key) {
        try {
            return db.get(reads, key);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int seekAndRead(byte[] from, int entries, Blackhole bh) {
        int n = 0;
        try (RocksIterator it = db.newIterator(reads)) {
            for (it.seek(from); n < entries && it.isValid(); it.next()) {
                bh.consume(it.key());
                bh.consume(it.value());
                n++;
            }
        }
        return n;
    }

    @Override
    public long scanAll(Blackhole bh) {
        long n = 0;
        try (RocksIterator it = db.newIterator(reads)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                bh.consume(it.key());
                bh.consume(it.value());
                n++;
            }
        }
        return n;
    }

    @Override
    public void flushAndSettle() {
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            db.flush(flush);
            // The Java API has no WaitForCompact: poll until no flush or compaction is pending or running.
            while (db.getLongProperty("rocksdb.compaction-pending") != 0
                    || db.getLongProperty("rocksdb.num-running-compactions") != 0
                    || db.getLongProperty("rocksdb.num-running-flushes") != 0
                    || db.getLongProperty("rocksdb.mem-table-flush-pending") != 0) {
                Thread.sleep(20);
            }
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private List<Long> filesPerLevel() {
        List<Long> files = new ArrayList<>();
        try {
            for (int level = 0; level < MAX_LEVELS; level++) {
                files.add(Long.parseLong(db.getProperty("rocksdb.num-files-at-level" + level)));
            }
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
        return files;
    }

    @Override
    public String describe() {
        try {
            return String.format("rocksdb: files per level %s, table bytes %d, memtables %.1f MiB, "
                            + "keys (estimate) %d, directory %.1f MiB",
                    filesPerLevel(), db.getLongProperty("rocksdb.total-sst-files-size"),
                    db.getLongProperty("rocksdb.cur-size-all-mem-tables") / 1048576.0,
                    db.getLongProperty("rocksdb.estimate-num-keys"), DbBenchSupport.sizeOf(dir) / 1048576.0);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean hasTables() {
        return filesPerLevel().stream().anyMatch(n -> n > 0);
    }

    @Override
    public void close() {
        try {
            db.closeE();
        } catch (RocksDBException e) {
            throw new IllegalStateException("closing RocksDB in " + dir + ": " + e.getMessage(), e);
        } finally {
            closeOptions();
        }
    }

    private void closeOptions() {
        reads.close();
        asyncWrites.close();
        syncWrites.close();
        options.close();
        filter.close();
        cache.close();
    }
}
