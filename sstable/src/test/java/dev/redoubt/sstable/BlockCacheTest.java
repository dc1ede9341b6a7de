package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SeedExtension.class)
class BlockCacheTest {
    private final SimulatedStorageEnv env = SstRoundTripTest.env();

    @Test
    void usedBytesNeverExceedTheCapacityWhileScanningATableMuchLargerThanIt() {
        writeTable(SstRoundTripTest.TABLE, 8000);
        BlockCache cache = new BlockCache(64 * 1024);
        try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, cache); EntryIterator it = reader.iterator()) {
            assertThat(reader.properties().dataBytes()).isGreaterThan(10L * cache.capacityBytes());
            int entries = 0;
            for (it.seekToFirst(); it.valid(); it.next()) {
                if (++entries % 50 == 0) {
                    assertThat(cache.usedBytes()).isLessThanOrEqualTo(cache.capacityBytes());
                }
            }
            assertThat(cache.usedBytes()).isLessThanOrEqualTo(cache.capacityBytes()).isGreaterThan(cache.capacityBytes() / 2);
            assertThat(cache.misses()).isEqualTo(reader.properties().dataBlockCount());
        }
    }

    @Test
    void aSecondReadOfABlockIsAHitAndTheFirstAMiss() {
        writeTable(SstRoundTripTest.TABLE, 1000);
        BlockCache cache = new BlockCache(1 << 20);
        try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, cache)) {
            byte[] key = key(500);
            assertThat(reader.get(key, Long.MAX_VALUE)).isNotNull();
            assertThat(cache.misses()).isEqualTo(1);
            assertThat(cache.hits()).isZero();
            assertThat(reader.get(key, Long.MAX_VALUE)).isNotNull();
            assertThat(reader.get(key(501), Long.MAX_VALUE)).isNotNull(); // same block
            assertThat(cache.misses()).isEqualTo(1);
            assertThat(cache.hits()).isEqualTo(2);
            assertThat(cache.blockCount()).isEqualTo(1);
        }
    }

    @Test
    void zeroCapacityDisablesCachingEveryReadMisses() {
        writeTable(SstRoundTripTest.TABLE, 1000);
        BlockCache cache = new BlockCache(0);
        try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, cache)) {
            for (int i = 0; i < 10; i++) {
                assertThat(reader.get(key(500), Long.MAX_VALUE)).isNotNull();
            }
            assertThat(cache.misses()).isEqualTo(10);
            assertThat(cache.hits()).isZero();
            assertThat(cache.usedBytes()).isZero();
            assertThat(cache.blockCount()).isZero();
        }
        assertThatThrownBy(() -> new BlockCache(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void blocksOfTwoTablesAtTheSameOffsetsNeverMix() {
        Path a = SstRoundTripTest.DIR.resolve("a.sst");
        Path b = SstRoundTripTest.DIR.resolve("b.sst");
        TableModel.write(env, a, SstOptions.defaults(), List.of(TestEntry.put("k", 1, "from a")));
        TableModel.write(env, b, SstOptions.defaults(), List.of(TestEntry.put("k", 1, "from b")));
        BlockCache cache = new BlockCache(1 << 20);
        try (SstReader ra = SstReader.open(env, a, cache); SstReader rb = SstReader.open(env, b, cache)) {
            for (int i = 0; i < 3; i++) {
                assertThat(ra.get("k".getBytes(), 1).value()).isEqualTo("from a".getBytes());
                assertThat(rb.get("k".getBytes(), 1).value()).isEqualTo("from b".getBytes());
            }
            assertThat(cache.blockCount()).isEqualTo(2);
            assertThat(cache.hits()).isEqualTo(4);
        }
    }

    @Test
    void theLeastRecentlyUsedBlockIsEvictedFirst() {
        Block block = block(1000);
        // Under 2 MiB: one shard, so one LRU order over all blocks.
        BlockCache cache = new BlockCache(3 * block.chargeBytes());
        cache.put(1, 0, block);
        cache.put(1, 100, block);
        cache.put(1, 200, block);
        assertThat(cache.get(1, 0)).isSameAs(block); // 0 is now the most recently used
        cache.put(1, 300, block);
        assertThat(cache.get(1, 100)).as("least recently used").isNull();
        assertThat(cache.get(1, 0)).isSameAs(block);
        assertThat(cache.get(1, 200)).isSameAs(block);
        assertThat(cache.get(1, 300)).isSameAs(block);
        assertThat(cache.usedBytes()).isEqualTo(3 * block.chargeBytes());
    }

    @Test
    void aBlockLargerThanAShardIsNotCached() {
        BlockCache cache = new BlockCache(500);
        cache.put(1, 0, block(1000));
        assertThat(cache.get(1, 0)).isNull();
        assertThat(cache.usedBytes()).isZero();
    }

    @Test
    void concurrentPutsAndGetsKeepTheBoundAndTheCounts(Random random) throws Exception {
        BlockCache cache = new BlockCache(4L << 20); // 4 shards of 1 MiB
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            blocks.add(block(1000 + random.nextInt(50_000)));
        }
        long seed = random.nextLong();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                Random r = new Random(seed + t);
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        int owner = r.nextInt(4);
                        int n = r.nextInt(blocks.size());
                        long offset = n * 100_000L;
                        Block got = cache.get(owner, offset);
                        if (got == null) {
                            cache.put(owner, offset, blocks.get(n));
                        } else {
                            assertThat(got).isSameAs(blocks.get(n));
                        }
                        assertThat(cache.usedBytes()).isLessThanOrEqualTo(cache.capacityBytes());
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(cache.hits() + cache.misses()).isEqualTo(8 * 20_000);
        assertThat(cache.hits()).isPositive();
        assertThat(cache.usedBytes()).isLessThanOrEqualTo(cache.capacityBytes());
    }

    private void writeTable(Path path, int count) {
        List<TestEntry> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            entries.add(new TestEntry(key(i), 1, dev.redoubt.common.EntryKind.PUT, ("value-" + i).repeat(12).getBytes()));
        }
        TableModel.write(env, path, SstOptions.defaults().compression(false), entries);
    }

    private static byte[] key(int i) {
        return String.format("key-%06d", i).getBytes();
    }

    /** A minimal valid block (one entry, one restart) padded to about {@code bytes}. */
    private static Block block(int bytes) {
        BlockBuilder builder = new BlockBuilder(16, bytes);
        builder.add("k".getBytes(), 1, dev.redoubt.common.EntryKind.PUT, new byte[bytes], 0, bytes);
        ByteSink s = builder.finish();
        return Block.parse(new BlockContents(java.util.Arrays.copyOf(s.array(), s.length()), s.length(), false),
                Path.of("/x.sst"), 0, "data");
    }
}
