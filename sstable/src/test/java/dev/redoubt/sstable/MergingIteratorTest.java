package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SeedExtension.class)
class MergingIteratorTest {

    @Test
    void theMergeOfRandomSourcesIsTheirSortedUnion(Random random) {
        for (int round = 0; round < 30; round++) {
            List<TestEntry> all = TableModel.randomEntries(random, 1 + random.nextInt(400), 5, 20, 0.2);
            List<List<TestEntry>> parts = split(all, 1 + random.nextInt(12), random);
            try (MergingIterator merged = merge(parts)) {
                assertThat(TableModel.readAll(merged)).as("round %d, %d sources", round, parts.size())
                        .containsExactlyElementsOf(all);
            }
        }
    }

    @Test
    void seekInTheMergeLandsWhereTheModelSays(Random random) {
        List<TestEntry> all = TableModel.randomEntries(random, 1000, 4, 10, 0.2);
        TableModel model = new TableModel(all);
        try (MergingIterator merged = merge(split(all, 7, random))) {
            for (int i = 0; i < 2000; i++) {
                byte[] target = random.nextBoolean() ? all.get(random.nextInt(all.size())).key()
                        : TableModel.randomKey(random);
                merged.seek(target);
                int expected = model.ceilingIndex(target);
                for (int step = 0; step < 10 && expected + step < all.size(); step++) {
                    assertThat(merged.valid()).isTrue();
                    assertThat(TestEntry.at(merged)).isEqualTo(all.get(expected + step));
                    merged.next();
                }
                if (expected + 10 >= all.size()) {
                    assertThat(merged.valid()).isFalse();
                }
            }
        }
    }

    @Test
    void anEntryInSeveralSourcesComesOutOnceFromTheFirstSource() {
        List<TestEntry> newest = List.of(TestEntry.put("a", 5, "first"), TestEntry.put("b", 3, "first"));
        List<TestEntry> middle = List.of(TestEntry.put("a", 5, "second"), TestEntry.put("b", 4, "second"),
                TestEntry.put("b", 3, "second"));
        List<TestEntry> oldest = List.of(TestEntry.put("a", 5, "third"), TestEntry.put("b", 3, "third"),
                TestEntry.put("c", 1, "third"));
        try (MergingIterator merged = merge(List.of(newest, middle, oldest))) {
            assertThat(TableModel.readAll(merged)).containsExactly(TestEntry.put("a", 5, "first"),
                    TestEntry.put("b", 4, "second"), TestEntry.put("b", 3, "first"), TestEntry.put("c", 1, "third"));
        }
    }

    @Test
    void emptySourcesAndNoSourcesGiveAnEmptyMerge() {
        try (MergingIterator none = MergingIterator.of()) {
            none.seekToFirst();
            assertThat(none.valid()).isFalse();
            assertThatThrownBy(none::next).isInstanceOf(IllegalStateException.class);
        }
        List<TestEntry> one = List.of(TestEntry.put("x", 1, "v"));
        try (MergingIterator merged = merge(List.of(List.of(), one, List.of()))) {
            assertThat(TableModel.readAll(merged)).containsExactlyElementsOf(one);
            merged.seek("y".getBytes());
            assertThat(merged.valid()).isFalse();
        }
    }

    @Test
    void closeClosesEverySource() {
        ListEntryIterator a = new ListEntryIterator(List.of());
        ListEntryIterator b = new ListEntryIterator(List.of());
        MergingIterator.of(a, b).close();
        assertThat(a.closed).isTrue();
        assertThat(b.closed).isTrue();
    }

    @Test
    void mergingTablesAndAMemtableIntoANewTableKeepsEveryEntryInOrder(Random random) {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        List<TestEntry> all = TableModel.randomEntries(random, 2000, 4, 100, 0.2);
        List<List<TestEntry>> parts = split(all, 4, random);
        BlockCache cache = new BlockCache(1 << 20);
        List<SstReader> readers = new ArrayList<>();
        List<EntryIterator> sources = new ArrayList<>();
        sources.add(new ListEntryIterator(parts.get(0))); // the memtable
        for (int i = 1; i < parts.size(); i++) {
            if (parts.get(i).isEmpty()) {
                continue;
            }
            Path path = SstRoundTripTest.DIR.resolve(i + ".sst");
            TableModel.write(env, path, SstOptions.defaults().blockBytes(512), parts.get(i));
            SstReader reader = SstReader.open(env, path, cache);
            readers.add(reader);
            sources.add(reader.iterator());
        }
        Path output = SstRoundTripTest.DIR.resolve("compacted.sst");
        try (MergingIterator merged = new MergingIterator(sources); SstWriter writer = new SstWriter(env, output,
                SstOptions.defaults())) {
            for (merged.seekToFirst(); merged.valid(); merged.next()) {
                writer.add(merged.key(), merged.sequence(), merged.kind(), merged.value());
            }
            assertThat(writer.finish().entryCount()).isEqualTo(all.size());
        }
        readers.forEach(SstReader::close);
        try (SstReader reader = SstReader.open(env, output, cache); EntryIterator it = reader.iterator()) {
            assertThat(TableModel.readAll(it)).containsExactlyElementsOf(all);
            reader.verify();
        }
    }

    /** Deals the entries out to {@code count} sources at random, each keeping internal order. */
    static List<List<TestEntry>> split(List<TestEntry> all, int count, Random random) {
        List<List<TestEntry>> parts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            parts.add(new ArrayList<>());
        }
        for (TestEntry e : all) {
            parts.get(random.nextInt(count)).add(e);
        }
        return parts;
    }

    static MergingIterator merge(List<List<TestEntry>> parts) {
        List<EntryIterator> sources = new ArrayList<>();
        for (List<TestEntry> p : parts) {
            sources.add(new ListEntryIterator(p));
        }
        return new MergingIterator(sources);
    }
}
