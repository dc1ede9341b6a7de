package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import java.io.IOException;
import java.nio.file.Path;
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

/**
 * {@code SYNC} puts (acknowledged after the WAL fsync) of random keys into a database that starts empty, from 1
 * and from 8 threads; throughput in puts per second. Every thread takes the next index of one shared counter and
 * puts that random key (a permuted counter: no key is written twice), so with 8 threads the engines' group
 * commit makes one fsync cover several puts.
 *
 * <p>Time-bound, not {@code keys}-bound: at the hundreds to few thousands of fsyncs per second of a VM disk,
 * loading 1 M keys with SYNC puts would take from minutes to hours (db_bench, too, runs its sync fills with a
 * smaller {@code --num}). The database lives for the trial (warmup and measurement), in a fresh directory
 * deleted at its end.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 3)
public class DbSyncWriteBenchmark extends BenchmarkDefaults {
    @Param({KvEngine.REDOUBT, KvEngine.ROCKSDB})
    public String engine;

    private Path dir;
    private KvEngine db;
    private final AtomicLong next = new AtomicLong();

    /** One writer thread's key and value arrays. */
    @State(Scope.Thread)
    public static class Buffers {
        final byte[] key = Keys.newKey();
        final byte[] value = Keys.newValue();
    }

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = BenchFiles.freshTempDir("redoubt-bench-db-sync-");
        db = KvEngine.open(engine, dir, KvEngine.Config.defaults());
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        try {
            if (db != null) {
                System.out.printf("%n# after %d SYNC puts: %s%n", next.get(), db.describe());
                db.close();
            }
        } finally {
            DirectoryTrees.deleteTree(dir);
        }
    }

    private void syncPut(Buffers b) {
        long i = next.getAndIncrement();
        db.put(Keys.random(i, b.key), Keys.value(i, b.value), true);
    }

    @Benchmark
    @Threads(1)
    public void fillrandomSync1(Buffers b) {
        syncPut(b);
    }

    @Benchmark
    @Threads(8)
    public void fillrandomSync8(Buffers b) {
        syncPut(b);
    }
}
