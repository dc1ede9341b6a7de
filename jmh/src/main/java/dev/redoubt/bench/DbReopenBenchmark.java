package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
 * Reopening a database whose {@code keys} records are only in the WAL: the time of {@code open} (redo of the
 * whole log into the memtable) plus a {@code get} of the first and of the last key written, to prove they were
 * replayed. Single shot, milliseconds; lower is better.
 *
 * <p>Once per trial (not timed): a fresh database with a memtable large enough for every record
 * ({@code max(64 MiB, keys x 512 B)} on both engines), loaded with {@code keys} random-order {@code ASYNC} puts
 * (one WAL record each, as {@code fillrandom}), then closed without a flush (Redoubt never flushes at close;
 * RocksDB: {@code avoid_flush_during_shutdown=true}). Each iteration opens it, and after the timed part checks
 * that no table exists (so neither engine flushed during the load or the open; RocksDB needs
 * {@code avoid_flush_during_recovery=true} for that, else its open also writes the replayed memtable to level 0
 * and drops the WAL, and the next iteration would replay nothing) and closes it again without a flush, so every
 * iteration replays the same log.
 *
 * <p>The warmup iteration is there so the mean measures a JIT-compiled replay; a process restart runs it cold.
 * The fork prints every open's time at the end of the trial, the first one cold: Redoubt's cold figure is what a
 * restarted JVM would see.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Threads(1)
public class DbReopenBenchmark extends BenchmarkDefaults {
    @Param({KvEngine.REDOUBT, KvEngine.ROCKSDB})
    public String engine;

    @Param({"1000000"})
    public long keys;

    private Path dir;
    private KvEngine.Config config;
    private KvEngine db;
    private long openStarted;
    private final List<Double> openMillis = new ArrayList<>();
    private final byte[] key = Keys.newKey();

    static long memtableBytesFor(long keys) {
        return Math.max(64L * 1024 * 1024, keys * 512);
    }

    @Setup(Level.Trial)
    public void load() throws IOException {
        dir = BenchFiles.freshTempDir("redoubt-bench-db-reopen-");
        config = KvEngine.Config.defaults().withMemtableBytes(memtableBytesFor(keys));
        long started = System.nanoTime();
        try (KvEngine e = KvEngine.open(engine, dir, config)) {
            byte[] value = Keys.newValue();
            for (long i = 0; i < keys; i++) {
                e.put(Keys.random(i, key), Keys.value(i, value), false);
            }
            if (e.hasTables()) {
                throw new IllegalStateException(engine + " flushed during the load: the memtable is too small");
            }
            System.out.printf("%n# loaded %d keys (ASYNC puts, no flush) in %.1f s: %s%n", keys,
                    (System.nanoTime() - started) / 1e9, e.describe());
        }
    }

    @Setup(Level.Iteration)
    public void mark() {
        openStarted = System.nanoTime();
    }

    @Benchmark
    public KvEngine reopen() {
        db = KvEngine.open(engine, dir, config);
        check(db, 0);
        check(db, keys - 1);
        return db;
    }

    private void check(KvEngine e, long i) {
        byte[] expected = Keys.value(i, Keys.newValue());
        if (!Arrays.equals(e.get(Keys.random(i, key)), expected)) {
            throw new IllegalStateException(engine + ": key index " + i + " was not replayed");
        }
    }

    @TearDown(Level.Iteration)
    public void closeDb() {
        openMillis.add((System.nanoTime() - openStarted) / 1e6);
        if (db == null) {
            return; // the open failed; JMH reports it
        }
        try {
            if (db.hasTables()) {
                throw new IllegalStateException(engine + " wrote a table during open: the comparison is void");
            }
            if (openMillis.size() == 1) {
                String replayed = db instanceof RedoubtEngine
                        ? ", records replayed " + ((RedoubtEngine) db).recordsReplayed() : "";
                System.out.printf("%n# after the first open: %s%s%n", db.describe(), replayed);
            }
        } finally {
            db.close();
            db = null;
        }
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (double ms : openMillis) {
            sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", ms));
        }
        System.out.printf("%n# %s open + 2 gets, ms, in order (the first one cold, warmup included): %s%n", engine, sb);
        DirectoryTrees.deleteTree(dir);
    }
}
