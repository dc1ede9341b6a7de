package dev.redoubt.engine;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.sstable.BlockCache;
import dev.redoubt.sstable.SstReader;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open readers of the live tables, by file number, sharing one {@link BlockCache}. A reader is opened on first
 * use and closed when its table is deleted ({@link #evict}); the caller guarantees no read is in flight on an
 * evicted table (the engine evicts only tables no live {@link SuperVersion} references). Thread-safe.
 */
final class TableCache implements AutoCloseable {
    private final StorageEnv env;
    private final Path dir;
    private final BlockCache blockCache;
    private final ConcurrentHashMap<Long, SstReader> readers = new ConcurrentHashMap<>();

    TableCache(StorageEnv env, Path dir, long blockCacheBytes) {
        this.env = env;
        this.dir = dir;
        this.blockCache = new BlockCache(blockCacheBytes);
    }

    SstReader reader(long number) {
        SstReader reader = readers.get(number);
        if (reader != null) {
            return reader;
        }
        return readers.computeIfAbsent(number, n -> SstReader.open(env, DbFiles.sstPath(dir, n), blockCache));
    }

    void evict(long number) {
        SstReader reader = readers.remove(number);
        if (reader != null) {
            closeQuietly(reader);
        }
    }

    BlockCache blockCache() {
        return blockCache;
    }

    private static void closeQuietly(SstReader reader) {
        try {
            reader.close();
        } catch (Exception ignored) {
            // read-only handle
        }
    }

    @Override
    public void close() {
        for (SstReader reader : readers.values()) {
            closeQuietly(reader);
        }
        readers.clear();
    }
}
