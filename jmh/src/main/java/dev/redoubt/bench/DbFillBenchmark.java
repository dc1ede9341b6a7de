package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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

/**
 * Loading {@code keys} records of {@code valueBytes} values (100 and 1024) into a fresh database, one {@code ASYNC} put per record (its own WAL record, like
 * db_bench's default batch size of 1), one thread. Single shot: one operation = the whole load; the report turns
 * it into records per second ({@code keys / time}).
 *
 * <ul>
 *   <li>{@code fillseq}: keys in ascending order (a 16-byte big-endian counter).</li>
 *   <li>{@code fillrandom}: keys in random order (a permuted counter: each key once).</li>
 * </ul>
 *
 * <p>Each iteration (warmup included) opens a new database in a fresh directory (not timed) and, after the
 * load, closes it and deletes the directory (not timed). The time is the puts only, as db_bench counts it:
 * memtable flushes and compactions run in the background during the load and slow it when they fall behind
 * (both engines stall writers then); work still pending when the last put returns is not counted, for either.
 * At the end of each iteration the fork prints the engine's shape and its memory ({@code VmRSS}/{@code VmHWM}):
 * with {@code -p keys=10000000} that is the 10 M records RSS check.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Threads(1)
public class DbFillBenchmark extends BenchmarkDefaults {
    @Param({KvEngine.REDOUBT, KvEngine.ROCKSDB})
    public String engine;

    @Param({"1000000"})
    public long keys;

    /** 100 B (db_bench's default) and 1 KiB (a YCSB record: 10 fields of 100 B). */
    @Param({"100", "1024"})
    public int valueBytes;

    private Path dir;
    private KvEngine db;
    private final byte[] key = Keys.newKey();
    private byte[] value;

    @Setup(Level.Iteration)
    public void open() throws IOException {
        value = Keys.newValue(valueBytes);
        dir = BenchFiles.freshTempDir("redoubt-bench-db-fill-");
        db = KvEngine.open(engine, dir, KvEngine.Config.defaults());
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
        try {
            if (db != null) {
                // Goes to the JMH console: what the load left behind, and the memory it took.
                System.out.printf("%n# after the load of %d keys: %s%n# memory at the end of the load: %s%n", keys,
                        db.describe(), DbBenchSupport.memoryLine());
                db.close();
                db = null;
            }
        } finally {
            DirectoryTrees.deleteTree(dir);
        }
    }

    @Benchmark
    public void fillseq() {
        for (long i = 0; i < keys; i++) {
            db.put(Keys.sequential(i, key), Keys.value(i, value), false);
        }
    }

    @Benchmark
    public void fillrandom() {
        for (long i = 0; i < keys; i++) {
            db.put(Keys.random(i, key), Keys.value(i, value), false);
        }
    }
}
