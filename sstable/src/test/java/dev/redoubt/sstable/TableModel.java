package dev.redoubt.sstable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Found;
import dev.redoubt.common.StorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;

/**
 * The model tests compare tables with: entries in a {@code TreeMap} from user key (unsigned byte order) to
 * versions by sequence, plus helpers to generate random entries, write them and read a table back.
 */
final class TableModel {
    final NavigableMap<byte[], NavigableMap<Long, TestEntry>> byKey = new TreeMap<>(Arrays::compareUnsigned);
    final List<TestEntry> sorted = new ArrayList<>();

    TableModel(List<TestEntry> entries) {
        for (TestEntry e : entries) {
            byKey.computeIfAbsent(e.key(), k -> new TreeMap<>()).put(e.sequence(), e);
        }
        sorted.addAll(entries);
        sorted.sort(TestEntry.ORDER);
    }

    /** The newest version of {@code key} at or below {@code snapshot}, like {@link SstReader#get}. */
    Found get(byte[] key, long snapshot) {
        NavigableMap<Long, TestEntry> versions = byKey.get(key);
        var e = versions == null ? null : versions.floorEntry(snapshot);
        return e == null ? null : new Found(e.getValue().kind(), e.getKey(), e.getValue().value());
    }

    /** Index in {@link #sorted} of the first entry whose key is {@code >= key}. */
    int ceilingIndex(byte[] key) {
        int lo = 0;
        int hi = sorted.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Arrays.compareUnsigned(sorted.get(mid).key(), key) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * {@code count} random entries in internal order with distinct (key, sequence): keys drawn from a pool of
     * {@code distinctKeys} (shared prefixes, some empty, varied lengths), up to {@code maxVersions} versions per
     * key, about one in {@code 1/deleteRatio} a DELETE, values up to {@code maxValueBytes}.
     */
    static List<TestEntry> randomEntries(Random random, int distinctKeys, int maxVersions, int maxValueBytes,
                                         double deleteRatio) {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < distinctKeys; i++) {
            keys.add(randomKey(random));
        }
        List<TestEntry> entries = new ArrayList<>();
        long sequence = 1 + random.nextInt(1000);
        for (byte[] key : keys) {
            int versions = 1 + random.nextInt(maxVersions);
            for (int v = 0; v < versions; v++) {
                sequence += 1 + random.nextInt(random.nextInt(10) == 0 ? 1_000_000 : 3);
                boolean delete = random.nextDouble() < deleteRatio;
                byte[] value = delete ? new byte[0] : randomValue(random, maxValueBytes);
                entries.add(new TestEntry(key, sequence, delete ? EntryKind.DELETE : EntryKind.PUT, value));
            }
        }
        entries.sort(TestEntry.ORDER);
        // A key drawn twice into the pool just has more versions: sequences are unique across all entries.
        return entries;
    }

    static byte[] randomKey(Random random) {
        int shape = random.nextInt(10);
        if (shape == 0) {
            byte[] k = new byte[random.nextInt(3)];
            random.nextBytes(k);
            return k;
        }
        // Shared prefixes exercise prefix compression; raw bytes exercise unsigned order.
        String prefix = "user:" + random.nextInt(50) + ":";
        byte[] p = prefix.getBytes();
        byte[] k = Arrays.copyOf(p, p.length + 1 + random.nextInt(shape == 9 ? 300 : 12));
        for (int i = p.length; i < k.length; i++) {
            k[i] = (byte) (shape < 5 ? 'a' + random.nextInt(26) : random.nextInt(256));
        }
        return k;
    }

    static byte[] randomValue(Random random, int maxValueBytes) {
        byte[] v = new byte[random.nextInt(maxValueBytes + 1)];
        if (random.nextBoolean()) {
            random.nextBytes(v); // incompressible
        } else {
            for (int i = 0; i < v.length; i++) {
                v[i] = (byte) ('a' + (i / 7) % 5); // compressible
            }
        }
        return v;
    }

    static SstProperties write(StorageEnv env, Path path, SstOptions options, List<TestEntry> entries) {
        SstWriter writer = new SstWriter(env, path, options);
        for (TestEntry e : entries) {
            writer.add(e.key(), e.sequence(), e.kind(), e.value());
        }
        return writer.finish();
    }

    static List<TestEntry> readAll(EntryIterator it) {
        List<TestEntry> out = new ArrayList<>();
        for (it.seekToFirst(); it.valid(); it.next()) {
            out.add(TestEntry.at(it));
        }
        return out;
    }
}
