package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Reads from a database preloaded, once per trial (not timed), with {@code keys} random-order records, then
 * flushed and compacted the same way on both engines: {@code flush} of the memtable, then each engine's own
 * automatic leveled compaction run until it has nothing left to do (Redoubt: {@code Db.compact()}; RocksDB: poll
 * until no flush or compaction is pending or running). No manual full compaction on either: the shape is what
 * each engine's policy gives (printed: files per level). Memtables are empty, so every read goes to the tables.
 *
 * <p>"Data in memory": the tables were just written, so they sit in the OS page cache (the machine has far more
 * RAM than the data); the block cache is {@code cacheMiB} (64 MiB by default, on both), smaller than the data at
 * 1 M keys, so a read that misses it costs a {@code pread} from the page cache, a CRC check and an LZ4
 * decompression on both engines. {@code -p cacheMiB=512} holds the whole 1 M-key data set in the block cache.
 *
 * <ul>
 *   <li>{@code readrandom1}, {@code readrandom2}: {@code get} of a uniformly random existing key from 1 and 2
 *       threads (a miss fails the benchmark); throughput in gets per second.</li>
 *   <li>{@code seekrandom}: a new iterator positioned at a random existing key, then 11 entries read (the one
 *       found and 10 {@code next}s: db_bench's {@code seekrandom --seek_nexts=10}), key and value of each;
 *       throughput in seeks per second.</li>
 *   <li>{@code scanFull}: every record in key order through one iterator (key and value of each), single shot;
 *       the report turns it into records per second.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 3)
public class DbReadBenchmark extends BenchmarkDefaults {
    /** Entries read after a seek: the one found + 10 nexts. */
    static final int SEEK_ENTRIES = 11;
    /** Puts per preload batch. */
    static final int PRELOAD_BATCH = 1000;

    @Param({KvEngine.REDOUBT, KvEngine.ROCKSDB})
    public String engine;

    @Param({"1000000"})
    public long keys;

    @Param({"64"})
    public long cacheMiB;

    private Path dir;
    KvEngine db;

    /** One reader thread's random source and key array. */
    @State(Scope.Thread)
    public static class Reader {
        private static final AtomicLong SEEDS = new AtomicLong(0xBEEF);
        final SplittableRandom random = new SplittableRandom(SEEDS.getAndIncrement());
        final byte[] key = Keys.newKey();
    }

    @Setup(Level.Trial)
    public void load() throws IOException {
        dir = BenchFiles.freshTempDir("redoubt-bench-db-read-");
        db = KvEngine.open(engine, dir, KvEngine.Config.defaults().withBlockCacheMiB(cacheMiB));
        long started = System.nanoTime();
        preload(db, keys);
        long loaded = System.nanoTime();
        db.flushAndSettle();
        long settled = System.nanoTime();
        verifySample(db, keys);
        System.out.printf("%n# preloaded %d random keys in %.1f s (batches of %d, ASYNC), flushed and compacted to "
                        + "quiet in %.1f s; raw %s%n# %s%n", keys, (loaded - started) / 1e9, PRELOAD_BATCH,
                (settled - loaded) / 1e9, DbBenchSupport.mib(keys * Keys.RECORD_BYTES), db.describe());
    }

    /** Loads keys {@code random(0..n-1)} in batches; not timed. */
    static void preload(KvEngine db, long n) {
        byte[][] k = new byte[PRELOAD_BATCH][Keys.KEY_BYTES];
        byte[][] v = new byte[PRELOAD_BATCH][Keys.VALUE_BYTES];
        for (long i = 0; i < n; ) {
            int count = (int) Math.min(PRELOAD_BATCH, n - i);
            for (int j = 0; j < count; j++, i++) {
                Keys.random(i, k[j]);
                Keys.value(i, v[j]);
            }
            db.putBatch(k, v, count, false);
        }
    }

    /** Reads back 1,000 random records and compares their values: the load and the engine are sane. */
    static void verifySample(KvEngine db, long n) {
        SplittableRandom r = new SplittableRandom(7);
        byte[] key = Keys.newKey();
        byte[] expected = Keys.newValue();
        for (int s = 0; s < 1000; s++) {
            long i = r.nextLong(n);
            byte[] got = db.get(Keys.random(i, key));
            if (!Arrays.equals(got, Keys.value(i, expected))) {
                throw new IllegalStateException(db.name() + ": wrong value for key index " + i);
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        try {
            if (db != null) {
                System.out.printf("%n# at the end: %s%n# memory: %s%n", db.describe(), DbBenchSupport.memoryLine());
                db.close();
            }
        } finally {
            DirectoryTrees.deleteTree(dir);
        }
    }

    private byte[] readRandom(Reader r) {
        byte[] v = db.get(Keys.random(r.random.nextLong(keys), r.key));
        if (v == null) {
            throw new IllegalStateException(engine + ": an existing key was not found");
        }
        return v;
    }

    @Benchmark
    @Threads(1)
    public byte[] readrandom1(Reader r) {
        return readRandom(r);
    }

    @Benchmark
    @Threads(2)
    public byte[] readrandom2(Reader r) {
        return readRandom(r);
    }

    @Benchmark
    @Threads(1)
    public int seekrandom(Reader r, Blackhole bh) {
        int n = db.seekAndRead(Keys.random(r.random.nextLong(keys), r.key), SEEK_ENTRIES, bh);
        if (n == 0) {
            throw new IllegalStateException(engine + ": a seek to an existing key found nothing");
        }
        return n;
    }

    @Benchmark
    @Threads(1)
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public long scanFull(Blackhole bh) {
        long n = db.scanAll(bh);
        if (n != keys) {
            throw new IllegalStateException(engine + ": a full scan found " + n + " records, expected " + keys);
        }
        return n;
    }
}
