package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.Found;
import dev.redoubt.common.Limits;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(SeedExtension.class)
class SstRoundTripTest {
    static final Path DIR = Path.of("/db/sst");
    static final Path TABLE = DIR.resolve("000001.sst");

    @TempDir
    Path tmp;

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of(SstOptions.defaults()),
                Arguments.of(SstOptions.defaults().compression(false)),
                Arguments.of(SstOptions.defaults().blockBytes(256).restartInterval(1)),
                Arguments.of(SstOptions.defaults().blockBytes(64).restartInterval(3).compression(false)),
                Arguments.of(SstOptions.defaults().blockBytes(64 * 1024).restartInterval(128).bloomBitsPerKey(0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void randomEntriesRoundTripThroughManyBlocks(SstOptions options, Random random) {
        SimulatedStorageEnv env = env();
        List<TestEntry> entries = TableModel.randomEntries(random, 3000, 4, 300, 0.15);
        SstProperties written = TableModel.write(env, TABLE, options, entries);
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(1 << 20));
             EntryIterator it = reader.iterator()) {
            assertThat(TableModel.readAll(it)).containsExactlyElementsOf(entries);
            assertThat(reader.properties()).isEqualTo(written);
            assertThat(written.dataBlockCount()).isGreaterThan(options.blockBytes() < 1024 ? 100 : 1);
            reader.verify();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void getAtEverySnapshotMatchesTheTreeMapModel(SstOptions options, Random random) {
        SimulatedStorageEnv env = env();
        List<TestEntry> entries = TableModel.randomEntries(random, 1500, 6, 100, 0.2);
        TableModel model = new TableModel(entries);
        TableModel.write(env, TABLE, options, entries);
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(1 << 20))) {
            for (TestEntry e : entries) {
                // Exactly at a version, just below it (an older version or nothing), and far above.
                for (long snapshot : new long[] {e.sequence(), e.sequence() - 1, Long.MAX_VALUE}) {
                    assertSameFound(reader.get(e.key(), snapshot), model.get(e.key(), snapshot), e, snapshot);
                }
            }
            for (int i = 0; i < 3000; i++) {
                byte[] key = TableModel.randomKey(random);
                long snapshot = random.nextInt(10) == 0 ? -1 : random.nextLong(entries.size() * 200_000L);
                assertSameFound(reader.get(key, snapshot), model.get(key, snapshot), null, snapshot);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void seekLandsOnTheNewestVersionOfTheFirstKeyAtOrAfterTheTarget(SstOptions options, Random random) {
        SimulatedStorageEnv env = env();
        List<TestEntry> entries = TableModel.randomEntries(random, 1500, 3, 50, 0.1);
        TableModel model = new TableModel(entries);
        TableModel.write(env, TABLE, options, entries);
        List<byte[]> targets = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            targets.add(random.nextBoolean() ? entries.get(random.nextInt(entries.size())).key()
                    : TableModel.randomKey(random));
        }
        targets.add(new byte[0]);
        targets.add(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(0)); EntryIterator it = reader.iterator()) {
            for (byte[] target : targets) {
                it.seek(target);
                int expected = model.ceilingIndex(target);
                for (int step = 0; step < 20 && expected + step < entries.size(); step++) {
                    assertThat(it.valid()).as("seek %s, step %d", Keys.describe(target), step).isTrue();
                    assertThat(TestEntry.at(it)).isEqualTo(model.sorted.get(expected + step));
                    it.next();
                }
                if (expected + 20 >= entries.size()) {
                    assertThat(it.valid()).isFalse();
                }
            }
        }
    }

    @Test
    void valuesCopiedIntoABufferMatchTheValuesMadeAsArraysThroughATableAndAMerge() {
        SimulatedStorageEnv env = env();
        List<TestEntry> entries = new ArrayList<>();
        java.util.Random random = new java.util.Random(17);
        for (int i = 0; i < 300; i++) {
            byte[] value = new byte[random.nextInt(3000)];
            random.nextBytes(value);
            entries.add(i % 9 == 0 ? TestEntry.delete(String.format("k%04d", i), 5)
                    : new TestEntry(String.format("k%04d", i).getBytes(), 5, EntryKind.PUT, value));
        }
        TableModel.write(env, TABLE, SstOptions.defaults().blockBytes(1024), entries);
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(0));
             EntryIterator merged = new MergingIterator(List.of(reader.iterator()))) {
            byte[] buffer = new byte[4096];
            int i = 0;
            for (merged.seekToFirst(); merged.valid(); merged.next(), i++) {
                int n = merged.valueLength();
                java.util.Arrays.fill(buffer, (byte) 0x5A);
                merged.copyValue(buffer, 7);
                assertThat(java.util.Arrays.copyOfRange(buffer, 7, 7 + n)).as("entry %d", i)
                        .isEqualTo(entries.get(i).value());
                assertThat(merged.value()).hasSize(n);
            }
            assertThat(i).isEqualTo(entries.size());
        }
    }

    @Test
    void manyVersionsOfOneKeySpanSeveralBlocksAndEachSnapshotSeesItsOwn() {
        SimulatedStorageEnv env = env();
        List<TestEntry> entries = new ArrayList<>();
        entries.add(TestEntry.put("a", 5, "before"));
        for (int seq = 2000; seq >= 10; seq -= 2) {
            entries.add(seq % 10 == 0 ? TestEntry.delete("k", seq) : TestEntry.put("k", seq, "v" + seq));
        }
        entries.add(TestEntry.put("z", 1, "after"));
        SstProperties p = TableModel.write(env, TABLE, SstOptions.defaults().blockBytes(128), entries);
        assertThat(p.dataBlockCount()).isGreaterThan(50);
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(0))) {
            byte[] k = "k".getBytes();
            assertThat(reader.get(k, 9)).isNull();
            for (long snapshot = 10; snapshot <= 2002; snapshot++) {
                long newest = Math.min(2000, snapshot - snapshot % 2);
                Found f = reader.get(k, snapshot);
                assertThat(f.sequence()).as("snapshot %d", snapshot).isEqualTo(newest);
                assertThat(f.kind()).isEqualTo(newest % 10 == 0 ? EntryKind.DELETE : EntryKind.PUT);
                assertThat(f.value()).isEqualTo(newest % 10 == 0 ? new byte[0] : ("v" + newest).getBytes());
            }
            assertThat(reader.get("a".getBytes(), 4)).isNull();
            assertThat(reader.get("a".getBytes(), 5).value()).isEqualTo("before".getBytes());
            assertThat(reader.get("z".getBytes(), 1).value()).isEqualTo("after".getBytes());
        }
    }

    @Test
    void keysAndValuesAtTheLimitsAndEmptyOnesRoundTrip() {
        SimulatedStorageEnv env = env();
        byte[] bigKey = new byte[Limits.MAX_KEY_BYTES];
        bigKey[0] = 'b';
        byte[] bigValue = new byte[Limits.MAX_VALUE_BYTES];
        new Random(7).nextBytes(bigValue);
        List<TestEntry> entries = List.of(
                new TestEntry(new byte[0], 9, EntryKind.PUT, new byte[0]),
                new TestEntry(new byte[0], 8, EntryKind.DELETE, new byte[0]),
                new TestEntry("a".getBytes(), 3, EntryKind.PUT, bigValue),
                new TestEntry(bigKey, 4, EntryKind.PUT, "small".getBytes()),
                new TestEntry(bigKey, 2, EntryKind.PUT, bigValue));
        SstProperties p = TableModel.write(env, TABLE, SstOptions.defaults(), entries);
        assertThat(p.smallestKey()).isEmpty();
        assertThat(p.largestKey()).isEqualTo(bigKey);
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(64 << 20)); EntryIterator it = reader.iterator()) {
            assertThat(TableModel.readAll(it)).containsExactlyElementsOf(entries);
            assertThat(reader.get(new byte[0], 100).sequence()).isEqualTo(9);
            assertThat(reader.get(bigKey, 3).value()).isEqualTo(bigValue);
            reader.verify();
        }
    }

    @Test
    void propertiesRecordCountsRangesAndSizes() throws Exception {
        SimulatedStorageEnv env = env();
        List<TestEntry> entries = List.of(TestEntry.put("apple", 30, "red"), TestEntry.delete("apple", 12),
                TestEntry.put("banana", 44, "yellow"), TestEntry.delete("cherry", 7));
        SstProperties p = TableModel.write(env, TABLE, SstOptions.defaults(), entries);
        assertThat(p.entryCount()).isEqualTo(4);
        assertThat(p.deletionCount()).isEqualTo(2);
        assertThat(p.minSequence()).isEqualTo(7);
        assertThat(p.maxSequence()).isEqualTo(44);
        assertThat(p.smallestKey()).isEqualTo("apple".getBytes());
        assertThat(p.largestKey()).isEqualTo("cherry".getBytes());
        assertThat(p.rawKeyBytes()).isEqualTo(5 + 5 + 6 + 6);
        assertThat(p.rawValueBytes()).isEqualTo(3 + 6);
        assertThat(p.dataBlockCount()).isEqualTo(1);
        assertThat(p.fileBytes()).isEqualTo(env.readAllBytes(TABLE).length);
        assertThat(p.dataBytes() + p.indexBytes() + p.filterBytes()).isLessThan(p.fileBytes());
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(0))) {
            assertThat(reader.properties()).isEqualTo(p);
        }
    }

    @Test
    void compressibleBlocksShrinkAndIncompressibleOnesAreStoredRaw() {
        SimulatedStorageEnv env = env();
        Random random = new Random(1);
        List<TestEntry> compressible = new ArrayList<>();
        List<TestEntry> incompressible = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            String key = String.format("key%06d", i);
            compressible.add(TestEntry.put(key, 1, "value-value-value-value-value-value-" + (i % 10)));
            byte[] noise = new byte[64];
            random.nextBytes(noise);
            incompressible.add(new TestEntry(key.getBytes(), 1, EntryKind.PUT, noise));
        }
        SstProperties small = TableModel.write(env, DIR.resolve("c.sst"), SstOptions.defaults(), compressible);
        SstProperties raw = TableModel.write(env, DIR.resolve("r.sst"), SstOptions.defaults().compression(false),
                compressible);
        SstProperties noise = TableModel.write(env, DIR.resolve("n.sst"), SstOptions.defaults(), incompressible);
        assertThat(small.dataBytes()).isLessThan(raw.dataBytes() / 3);
        // Stored raw: the data bytes are the encoded entries plus trailers, never an LZ4 expansion.
        assertThat(noise.dataBytes()).isLessThan(noise.rawKeyBytes() + noise.rawValueBytes() + 2000 * 8L
                + noise.dataBlockCount() * 64);
        for (String name : List.of("c.sst", "r.sst", "n.sst")) {
            try (SstReader reader = SstReader.open(env, DIR.resolve(name), new BlockCache(0))) {
                reader.verify();
            }
        }
    }

    @Test
    void realFilesArePublishedByTempNameRenameAndDirectorySync() throws Exception {
        FileStorageEnv env = FileStorageEnv.INSTANCE;
        Path temp = tmp.resolve("000007.sst.tmp");
        Path live = tmp.resolve("000007.sst");
        List<TestEntry> entries = TableModel.randomEntries(new Random(3), 500, 3, 200, 0.1);
        SstProperties p = TableModel.write(env, temp, SstOptions.defaults(), entries);
        env.rename(temp, live);
        env.syncDirectory(tmp);
        try (SstReader reader = SstReader.open(env, live, new BlockCache(1 << 20)); EntryIterator it = reader.iterator()) {
            assertThat(reader.properties()).isEqualTo(p);
            assertThat(TableModel.readAll(it)).containsExactlyElementsOf(entries);
            reader.verify();
        }
    }

    private static void assertSameFound(Found actual, Found expected, TestEntry about, long snapshot) {
        if (expected == null) {
            assertThat(actual).as("%s at snapshot %d", about, snapshot).isNull();
            return;
        }
        assertThat(actual).as("%s at snapshot %d", about, snapshot).isNotNull();
        assertThat(actual.sequence()).isEqualTo(expected.sequence());
        assertThat(actual.kind()).isEqualTo(expected.kind());
        assertThat(actual.value()).isEqualTo(expected.value());
    }

    static SimulatedStorageEnv env() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try {
            env.createDirectories(DIR);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return env;
    }
}
