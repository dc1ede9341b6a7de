package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One test per bug found by the power-cut loop, so each stays fixed. */
class WalRegressionTest {

    @Test
    @Timeout(60)
    void largeRecordsRacingSegmentRollsDoNotDeadlock() throws Exception {
        // The roll used to take the reserve lock while holding the writer lock; the large-record path takes
        // them the other way round.
        WalOptions options = WalOptions.defaults().segmentBytes(16_384).ringBytes(65_536);
        try (Wal wal = Wal.open(new SimulatedStorageEnv(), Path.of("/db"), options)) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<?>> futures = new ArrayList<>();
            for (int size : new int[] {1_000, 9_000}) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 1_500; i++) {
                        wal.append(RecordType.WRITE_BATCH, new byte[size], Durability.ASYNC);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(50, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(WalTestLog.readAll(wal)).hasSize(3_000);
        }
    }

    @Test
    @Timeout(60)
    void futuresOfAFailedLogAlwaysComplete() throws Exception {
        for (int round = 0; round < 100; round++) {
            SimulatedStorageEnv env = new SimulatedStorageEnv();
            List<CompletableFuture<Long>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
            Wal wal = Wal.open(env, Path.of("/db"), WalOptions.defaults().segmentBytes(16_384));
            env.failForceAfter(5 + round % 20);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            for (int t = 0; t < 4; t++) {
                pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        try {
                            futures.add(wal.appendAsync(RecordType.WRITE_BATCH, new byte[64], Durability.SYNC));
                        } catch (RuntimeException failedAlready) {
                            return;
                        }
                    }
                });
            }
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            try {
                wal.close();
            } catch (RuntimeException failed) {
                // close reports the failure
            }
            for (CompletableFuture<Long> f : futures) {
                // Completed one way or the other: acknowledged before the failure, or failed with it.
                assertThat(f.handle((v, e) -> v != null || e != null).get(10, TimeUnit.SECONDS)).as("round %d", round).isTrue();
            }
        }
    }

    @Test
    void aClosedLogIsNotKeptReachableByAThreadThatAppended() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        WeakReference<SimulatedStorageEnv> ref = new WeakReference<>(env);
        try (Wal wal = Wal.open(env, Path.of("/db"), WalOptions.defaults().segmentBytes(16_384))) {
            wal.append(RecordType.WRITE_BATCH, new byte[100]);
        }
        env = null;
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(ref.get()).as("the env of a closed log is still reachable").isNull();
    }

    @Test
    void reopenMakesTheSegmentNamesDurableBeforeAcknowledgingAnything() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Path dir = Path.of("/db");
        Path walDir = dir.resolve(Wal.WAL_DIR);
        WalOptions options = WalOptions.defaults().segmentBytes(4096);
        try (Wal wal = Wal.open(env, dir, options)) {
            wal.append(RecordType.WRITE_BATCH, new byte[10]);
        }
        // A roll cut short by kill -9: the next segment renamed into place, the directory never synced.
        try (var f = env.openForWrite(walDir.resolve(SegmentFiles.segmentName(4096) + ".tmp"))) {
            f.write(0, java.nio.ByteBuffer.allocate(4096));
            f.force();
        }
        env.rename(walDir.resolve(SegmentFiles.segmentName(4096) + ".tmp"), SegmentFiles.segmentPath(walDir, 4096));
        env.crashProcess();
        long lsn;
        try (Wal wal = Wal.open(env, dir, options)) {
            // The first segment ends with padding, so appends go on in the renamed segment.
            wal.append(RecordType.WRITE_BATCH, new byte[4000]);
            lsn = wal.append(RecordType.WRITE_BATCH, new byte[10]);
        }
        env.cutPower();
        try (Wal wal = Wal.open(env, dir, options)) {
            assertThat(WalTestLog.readAll(wal)).extracting(WalTestLog.Read::lsn).contains(lsn);
        }
    }
}
