package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class DbMemoryBoundTest {
    private static final long MEMTABLE = 64 * 1024;
    private static final int VALUE = 1000;

    @Test
    @Timeout(120)
    void writersStallRatherThanLetMemtablesGrowPastTheBound() throws Exception {
        DbOptions options = DbModelTest.smallOptions().memtableBytes(MEMTABLE).maxImmutableMemtables(2)
                .durability(dev.redoubt.wal.Durability.ASYNC);
        try (Db db = Db.open(new SimulatedStorageEnv(), Path.of("/db"), options)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            AtomicBoolean done = new AtomicBoolean();
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    for (int i = 0; i < 5_000; i++) {
                        db.put(("w" + writer + "-" + i).getBytes(), new byte[VALUE]);
                    }
                    return null;
                }));
            }
            long worst = 0;
            while (writers.stream().anyMatch(f -> !f.isDone())) {
                worst = Math.max(worst, db.stats().memtableBytes());
                Thread.onSpinWait();
            }
            for (Future<?> f : writers) {
                f.get(60, TimeUnit.SECONDS);
            }
            done.set(true);
            pool.shutdown();
            // The active memtable and two immutable ones, each allowed to overshoot by the entry that filled it.
            long bound = 3 * (MEMTABLE + VALUE + 200);
            assertThat(worst).as("largest memtable footprint seen").isPositive().isLessThanOrEqualTo(bound);
            assertThat(db.stats().flushes()).isPositive();
        }
    }
}
