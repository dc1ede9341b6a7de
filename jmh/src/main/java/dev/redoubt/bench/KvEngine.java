package dev.redoubt.bench;

import java.nio.file.Path;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The few operations the Db benchmarks need, over both engines, so that one benchmark loop drives Redoubt and
 * RocksDB alike ({@link RedoubtEngine}, {@link RocksEngine}). Every method is what a Java user of the engine
 * would call; nothing here batches, caches or skips work the engine would otherwise do.
 *
 * <p>Thread-safety: as the engines: every method may be called from several threads, except {@link #close()}.
 */
interface KvEngine extends AutoCloseable {
    /** {@code @Param engine} values. */
    String REDOUBT = "redoubt";
    String ROCKSDB = "rocksdb";

    /**
     * The settings the comparison holds equal (see {@link RocksEngine} for how each maps to RocksDB).
     *
     * @param memtableBytes   write buffer before a switch and a flush to level 0 (both engines: 64 MiB default)
     * @param blockCacheBytes cache of uncompressed data blocks (both: 64 MiB default)
     */
    record Config(long memtableBytes, long blockCacheBytes) {
        static final long MIB = 1024L * 1024;

        /** Redoubt's defaults ({@code DbOptions.defaults()}), and the same for RocksDB. */
        static Config defaults() {
            return new Config(64 * MIB, 64 * MIB);
        }

        Config withBlockCacheMiB(long mib) {
            return new Config(memtableBytes, mib * MIB);
        }

        Config withMemtableBytes(long bytes) {
            return new Config(bytes, blockCacheBytes);
        }
    }

    static KvEngine open(String engine, Path dir, Config config) {
        switch (engine) {
            case REDOUBT:
                return new RedoubtEngine(dir, config);
            case ROCKSDB:
                return new RocksEngine(dir, config);
            default:
                throw new IllegalArgumentException("unknown engine '" + engine + "': use " + REDOUBT + " or " + ROCKSDB);
        }
    }

    String name();

    /** One put, its own WAL record. {@code sync}: returns after the WAL fsync; else after the OS write. */
    void put(byte[] key, byte[] value, boolean sync);

    /** One atomic batch of {@code n} puts (one WAL record): used to preload, never measured. */
    void putBatch(byte[][] keys, byte[][] values, int n, boolean sync);

    /** The value, or null. */
    byte[] get(byte[] key);

    /**
     * Positions a new iterator at the first key {@code >= from} and reads up to {@code entries} entries from
     * there (key and value of each into {@code bh}); closes the iterator. Returns the entries read.
     */
    int seekAndRead(byte[] from, int entries, Blackhole bh);

    /** Reads every entry in key order (key and value into {@code bh}); returns how many. */
    long scanAll(Blackhole bh);

    /** Flushes the memtable to a table and waits until the engine's own background compaction is quiet. */
    void flushAndSettle();

    /** Tables per level, bytes on disk, engine counters: one line for the benchmark log. */
    String describe();

    /** Whether any memtable was flushed to a table so far (the reopen benchmark needs none). */
    boolean hasTables();

    @Override
    void close();
}
