package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalOptions;
import dev.redoubt.wal.WalStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@link Wal} append latency and throughput: one {@code WRITE_BATCH} record per operation, from preallocated
 * direct payloads through the zero-allocation {@code append(RecordType, DirectBuffer, int, int, Durability)}.
 *
 * <ul>
 *   <li>{@code syncThreads1/4/16}: {@link Durability#SYNC} (returns after the fsync that covers the record) from
 *       1, 4 and 16 threads; more threads than cores on purpose: the writers wait on fsync, and group commit
 *       should make one fsync cover many of them.</li>
 *   <li>{@code asyncThreads1}: {@link Durability#ASYNC}, blocking: returns once the record was written to the OS
 *       (the appender writes it itself; the background flusher fsyncs every 20 ms).</li>
 *   <li>{@code asyncPipelinedThreads1}: {@link Wal#appendDeferred} of {@value #PIPELINE} records, then
 *       {@link Wal#awaitWritten} of the last: one write for the batch. Reported per record
 *       ({@code @OperationsPerInvocation}), so its percentiles are batch time / {@value #PIPELINE}, not the
 *       latency of one record; read its throughput.</li>
 * </ul>
 *
 * <p>Each configuration runs in its own fork on a log opened with default options (64 MiB preallocated segments)
 * in a fresh directory under {@code java.io.tmpdir}, deleted after the trial. Segments below the written end
 * are deleted before every iteration (as a checkpoint would), so a run needs at most one iteration's worth of
 * disk.
 */
@State(Scope.Benchmark)
public class WalAppendBenchmark extends BenchmarkDefaults {
    /** Records per {@code asyncPipelinedThreads1} invocation. */
    public static final int PIPELINE = 64;

    private Path dir;
    private Wal wal;

    /** One appender thread's payload: preallocated, direct, random bytes. */
    @State(Scope.Thread)
    public static class Payload {
        private static final AtomicLong SEEDS = new AtomicLong(0x5EED);

        @Param({"100", "4096"})
        public int recordBytes;

        UnsafeBuffer buffer;

        @Setup(Level.Trial)
        public void fill() {
            buffer = new UnsafeBuffer(BenchFiles.randomDirect(recordBytes, SEEDS.getAndIncrement()));
        }
    }

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = BenchFiles.freshTempDir("redoubt-bench-wal-");
        wal = Wal.open(dir, WalOptions.defaults());
    }

    /** Not measured: keeps the disk footprint to about one iteration's worth of log. */
    @Setup(Level.Iteration)
    public void dropOldSegments() {
        wal.truncateBefore(wal.writtenLsn());
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        try {
            if (wal != null) {
                WalStats s = wal.stats();
                wal.close();
                // Goes to the JMH console: how well group commit worked (warmup included).
                System.out.printf("%n# WAL stats for the trial: %d records, %d writes, %d fsyncs, %.1f records/fsync%n",
                        s.recordsWritten(), s.writes(), s.fsyncs(),
                        s.fsyncs() == 0 ? 0.0 : (double) s.recordsWritten() / s.fsyncs());
            }
        } finally {
            DirectoryTrees.deleteTree(dir);
        }
    }

    @Benchmark
    @Threads(1)
    public long syncThreads1(Payload p) {
        return wal.append(RecordType.WRITE_BATCH, p.buffer, 0, p.recordBytes, Durability.SYNC);
    }

    @Benchmark
    @Threads(4)
    public long syncThreads4(Payload p) {
        return wal.append(RecordType.WRITE_BATCH, p.buffer, 0, p.recordBytes, Durability.SYNC);
    }

    @Benchmark
    @Threads(16)
    public long syncThreads16(Payload p) {
        return wal.append(RecordType.WRITE_BATCH, p.buffer, 0, p.recordBytes, Durability.SYNC);
    }

    @Benchmark
    @Threads(1)
    public long asyncThreads1(Payload p) {
        return wal.append(RecordType.WRITE_BATCH, p.buffer, 0, p.recordBytes, Durability.ASYNC);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(PIPELINE)
    public long asyncPipelinedThreads1(Payload p) {
        long lsn = 0;
        for (int i = 0; i < PIPELINE; i++) {
            lsn = wal.appendDeferred(RecordType.WRITE_BATCH, p.buffer, 0, p.recordBytes);
        }
        wal.awaitWritten(lsn);
        return lsn;
    }
}
