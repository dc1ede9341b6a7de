package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.Found;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SeedExtension.class)
class SstConcurrencyTest {
    private static final int THREADS = 8;

    @Test
    void manyThreadsGettingAndIteratingOneReaderThroughASmallSharedCacheAgreeWithTheModel(Random random)
            throws Exception {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        List<TestEntry> entries = TableModel.randomEntries(random, 3000, 3, 200, 0.2);
        TableModel model = new TableModel(entries);
        TableModel.write(env, SstRoundTripTest.TABLE, SstOptions.defaults().blockBytes(1024), entries);
        // Small enough that blocks are evicted and re-read while other threads use them.
        BlockCache cache = new BlockCache(128 * 1024);
        long seed = random.nextLong();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, cache)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Random r = new Random(seed + t);
                boolean scanner = t % 4 == 0;
                futures.add(pool.submit(() -> {
                    start.await();
                    if (scanner) {
                        for (int pass = 0; pass < 3; pass++) {
                            try (EntryIterator it = reader.iterator()) {
                                assertThat(TableModel.readAll(it)).containsExactlyElementsOf(model.sorted);
                            }
                        }
                        return null;
                    }
                    for (int i = 0; i < 20_000; i++) {
                        TestEntry e = entries.get(r.nextInt(entries.size()));
                        long snapshot = e.sequence() + r.nextInt(3) - 1;
                        Found expected = model.get(e.key(), snapshot);
                        Found actual = reader.get(e.key(), snapshot);
                        if (expected == null) {
                            assertThat(actual).isNull();
                        } else {
                            assertThat(actual.sequence()).isEqualTo(expected.sequence());
                            assertThat(actual.value()).isEqualTo(expected.value());
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(cache.hits()).isPositive();
        assertThat(cache.usedBytes()).isLessThanOrEqualTo(cache.capacityBytes());
    }
}
