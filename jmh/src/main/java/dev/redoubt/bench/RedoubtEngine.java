package dev.redoubt.bench;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbIterator;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.DbStats;
import dev.redoubt.engine.KeyValue;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.engine.WriteOptions;
import java.nio.file.Path;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Redoubt's {@link Db} with {@code DbOptions.defaults()} (WAL on, LZ4 block compression, 4 KiB blocks, bloom
 * filter of 10 bits per key, 64 MiB memtable, 2 immutable memtables before writers stall, 64 MiB block cache,
 * leveled compaction with a level-0 trigger of 4 and a 256 MiB level 1), changing only what {@link
 * KvEngine.Config} says. Writes go through the public {@code put(key, value, WriteOptions)}, reads through
 * {@code get} and {@code scan}.
 */
final class RedoubtEngine implements KvEngine {
    private final Db db;
    private final Path dir;

    RedoubtEngine(Path dir, Config config) {
        this.dir = dir;
        DbOptions options = DbOptions.defaults();
        if (options.memtableBytes() != config.memtableBytes()) {
            options.memtableBytes(config.memtableBytes());
        }
        if (options.blockCacheBytes() != config.blockCacheBytes()) {
            options.blockCacheBytes(config.blockCacheBytes());
        }
        this.db = Db.open(dir, options);
    }

    Db db() {
        return db;
    }

    @Override
    public String name() {
        return REDOUBT;
    }

    @Override
    public void put(byte[] key, byte[] value, boolean sync) {
        db.put(key, value, sync ? WriteOptions.SYNC : WriteOptions.ASYNC);
    }

    @Override
    public void putBatch(byte[][] keys, byte[][] values, int n, boolean sync) {
        WriteBatch batch = new WriteBatch();
        for (int i = 0; i < n; i++) {
            batch.put(keys[i], values[i]);
        }
        db.write(batch, sync ? WriteOptions.SYNC : WriteOptions.ASYNC);
    }

    @Override
    public byte[] get(byte[] key) {
        return db.get(key);
    }

    @Override
    public int seekAndRead(byte[] from, int entries, Blackhole bh) {
        int n = 0;
        try (DbIterator it = db.scan(from, null)) {
            while (n < entries && it.hasNext()) {
                KeyValue kv = it.next();
                bh.consume(kv.key());
                bh.consume(kv.value());
                n++;
            }
        }
        return n;
    }

    @Override
    public long scanAll(Blackhole bh) {
        long n = 0;
        try (DbIterator it = db.scan(null, null)) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                bh.consume(kv.key());
                bh.consume(kv.value());
                n++;
            }
        }
        return n;
    }

    @Override
    public void flushAndSettle() {
        db.flush();
        db.compact(); // compacts until no level is over its target: the automatic policy, run to quiet
    }

    @Override
    public String describe() {
        DbStats s = db.stats();
        return String.format("redoubt: files per level %s, table bytes %s, memtables %.1f MiB, flushes %d, "
                        + "compactions %d (in %.1f MiB, out %.1f MiB), write stalls %d (%.0f ms), block cache hit "
                        + "rate %.1f%%, directory %.1f MiB",
                s.levelFiles(), s.levelBytes().stream().mapToLong(Long::longValue).sum(), s.memtableBytes() / 1048576.0,
                s.flushes(), s.compactions(), s.compactionBytesIn() / 1048576.0, s.compactionBytesOut() / 1048576.0,
                s.writeStalls(), s.writeStallNanos() / 1e6, 100 * s.blockCacheHitRate(),
                DbBenchSupport.sizeOf(dir) / 1048576.0);
    }

    @Override
    public boolean hasTables() {
        return db.stats().levelFiles().stream().anyMatch(n -> n > 0) || db.stats().flushes() > 0;
    }

    /** Records replayed by the last open (redo). */
    long recordsReplayed() {
        return db.recoveryReport().recordsReplayed();
    }

    @Override
    public void close() {
        db.close();
    }
}
