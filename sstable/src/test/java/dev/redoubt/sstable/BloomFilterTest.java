package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.EntryKind;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SeedExtension.class)
class BloomFilterTest {
    private static final int KEYS = 100_000;

    @Test
    void falsePositiveRateAtTenBitsPerKeyIsAboutOnePercentMeasuredOn100kAbsentKeys(Random random) {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        long salt = random.nextLong();
        try (SstWriter w = new SstWriter(env, SstRoundTripTest.TABLE, SstOptions.defaults())) {
            for (int i = 0; i < KEYS; i++) {
                w.add(key(salt, 2L * i), 1, EntryKind.PUT, new byte[0]);
            }
            w.finish();
        }
        try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, new BlockCache(0))) {
            for (int i = 0; i < KEYS; i++) {
                assertThat(reader.mayContain(key(salt, 2L * i))).as("no false negatives: key %d", i).isTrue();
            }
            int falsePositives = 0;
            for (int i = 0; i < KEYS; i++) {
                falsePositives += reader.mayContain(key(salt, 2L * i + 1)) ? 1 : 0;
            }
            double rate = (double) falsePositives / KEYS;
            System.out.printf("bloom filter, 10 bits/key, %d keys: %d false positives in %d absent keys = %.3f%%%n",
                    KEYS, falsePositives, KEYS, 100 * rate);
            assertThat(rate).as("false-positive rate (theory: 0.82%% at k = 7)").isLessThan(0.015);
            assertThat(reader.properties().filterBytes()).isBetween(KEYS * 10L / 8, KEYS * 10L / 8 + 64);
        }
    }

    @Test
    void moreBitsPerKeyGiveFewerFalsePositives() {
        double previous = 1;
        for (int bits : new int[] {4, 10, 20}) {
            SimulatedStorageEnv env = SstRoundTripTest.env();
            try (SstWriter w = new SstWriter(env, SstRoundTripTest.TABLE, SstOptions.defaults().bloomBitsPerKey(bits))) {
                for (int i = 0; i < 20_000; i++) {
                    w.add(key(bits, 2L * i), 1, EntryKind.PUT, new byte[0]);
                }
                w.finish();
            }
            try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, new BlockCache(0))) {
                int fp = 0;
                for (int i = 0; i < 20_000; i++) {
                    fp += reader.mayContain(key(bits, 2L * i + 1)) ? 1 : 0;
                }
                double rate = fp / 20_000.0;
                assertThat(rate).as("%d bits per key", bits).isLessThan(previous);
                previous = rate;
            }
        }
    }

    @Test
    void withoutAFilterEveryKeyMayBePresentAndLookupsStillWork() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        try (SstWriter w = new SstWriter(env, SstRoundTripTest.TABLE, SstOptions.defaults().bloomBitsPerKey(0))) {
            w.add("k".getBytes(), 1, EntryKind.PUT, "v".getBytes());
            w.finish();
        }
        try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, new BlockCache(0))) {
            assertThat(reader.mayContain("absent".getBytes())).isTrue();
            assertThat(reader.get("absent".getBytes(), 9)).isNull();
            assertThat(reader.get("k".getBytes(), 9).value()).isEqualTo("v".getBytes());
            reader.verify();
        }
    }

    @Test
    void aLookupTheFilterRejectsReadsNoBlock() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        try (SstWriter w = new SstWriter(env, SstRoundTripTest.TABLE, SstOptions.defaults())) {
            for (int i = 0; i < 1000; i++) {
                w.add(key(5, i), 1, EntryKind.PUT, new byte[10]);
            }
            w.finish();
        }
        BlockCache cache = new BlockCache(1 << 20);
        try (SstReader reader = SstReader.open(env, SstRoundTripTest.TABLE, cache)) {
            int rejected = 0;
            for (int i = 1000; i < 2000; i++) {
                byte[] absent = key(5, i);
                if (!reader.mayContain(absent)) {
                    long lookups = cache.hits() + cache.misses();
                    assertThat(reader.get(absent, 1)).isNull();
                    assertThat(cache.hits() + cache.misses()).isEqualTo(lookups);
                    rejected++;
                }
            }
            assertThat(rejected).isGreaterThan(950);
        }
    }

    @Test
    void probeCountIsBitsPerKeyTimesLnTwo() {
        assertThat(BloomFilterBuilder.probesFor(10)).isEqualTo(7);
        assertThat(BloomFilterBuilder.probesFor(1)).isEqualTo(1);
        assertThat(BloomFilterBuilder.probesFor(30)).isEqualTo(21);
    }

    /** Distinct 16-byte keys that share structure, as real keys do: a salt and a counter. */
    private static byte[] key(long salt, long i) {
        return ByteBuffer.allocate(16).putLong(salt).putLong(i).array();
    }
}
