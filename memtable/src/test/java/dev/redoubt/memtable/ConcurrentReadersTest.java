package dev.redoubt.memtable;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Found;
import dev.redoubt.common.KeyOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One writer adds versions with increasing sequences 1..N (and publishes each sequence once its add returned)
 * while readers get and iterate. A read at a snapshot S no greater than the published sequence must return exactly
 * what the first S writes say; a read at the newest snapshot must see at least every write published before it
 * started and nothing that was never written. Every value read is checked byte for byte (no torn entry).
 */
class ConcurrentReadersTest {
    private static final long SEED = Seeded.seed();
    private static final int WRITES = 100_000;
    private static final int KEYS = 500;
    private static final int READERS = 4;

    /** Write i (1-based sequence i): which key, which kind; the value is a function of (key, sequence). */
    private final int[] keyOfWrite = new int[WRITES + 1];
    private final EntryKind[] kindOfWrite = new EntryKind[WRITES + 1];
    private byte[][] keys;
    /** Per key, the sequences that write it, ascending. */
    private long[][] sequencesOfKey;
    /** Every write's sequence, in internal order. */
    private long[] internalOrder;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void readersSeeExactlyThePublishedPrefixAndNeverATornEntryWhileOneWriterAdds() {
        Seeded.run(SEED, random -> {
            plan(random);
            try (Memtable memtable = new Memtable(256L << 20)) {
                race(memtable, random.nextLong());
            }
        });
    }

    @Test
    void iteratorPositionedBeforeLaterAddsStillSeesEveryEarlierEntry() {
        // Deterministic interleaving of one thread: even keys exist when the walk starts, odd ones arrive during it.
        try (Memtable m = new Memtable(1 << 20)) {
            for (int i = 0; i < 1000; i += 2) {
                m.add(key(i), i, EntryKind.PUT, value(i, i));
            }
            List<Integer> seen = new ArrayList<>();
            try (EntryIterator it = m.iterator(Long.MAX_VALUE)) {
                int nextOdd = 1;
                for (it.seekToFirst(); it.valid(); it.next()) {
                    int k = Integer.parseInt(new String(it.key()).substring(1));
                    assertThat(it.value()).isEqualTo(value(k, it.sequence()));
                    seen.add(k);
                    // Odd keys arrive during the walk, each just ahead of or behind the cursor.
                    if (nextOdd < 1000) {
                        m.add(key(nextOdd), nextOdd, EntryKind.PUT, value(nextOdd, nextOdd));
                        nextOdd += 2;
                    }
                }
            }
            assertThat(seen).isSorted();
            for (int i = 0; i < 1000; i += 2) {
                assertThat(seen).contains(i);
            }
        }
    }

    private void plan(Random random) {
        keys = new byte[KEYS][];
        for (int k = 0; k < KEYS; k++) {
            byte[] key = new byte[random.nextInt(25)];
            random.nextBytes(key);
            keys[k] = key;
        }
        // Distinct keys make the per-key model simple: replace any accidental duplicate by an index-tagged key.
        for (int k = 0; k < KEYS; k++) {
            for (int j = 0; j < k; j++) {
                if (Arrays.equals(keys[j], keys[k])) {
                    keys[k] = new byte[] {(byte) 0xFE, (byte) (k >> 8), (byte) k};
                }
            }
        }
        int[] counts = new int[KEYS];
        for (int s = 1; s <= WRITES; s++) {
            int k = random.nextInt(10) < 3 ? random.nextInt(8) : random.nextInt(KEYS); // a few hot keys
            keyOfWrite[s] = k;
            kindOfWrite[s] = random.nextInt(5) == 0 ? EntryKind.DELETE : EntryKind.PUT;
            counts[k]++;
        }
        sequencesOfKey = new long[KEYS][];
        int[] filled = new int[KEYS];
        for (int k = 0; k < KEYS; k++) {
            sequencesOfKey[k] = new long[counts[k]];
        }
        for (int s = 1; s <= WRITES; s++) {
            int k = keyOfWrite[s];
            sequencesOfKey[k][filled[k]++] = s;
        }
        Long[] order = new Long[WRITES];
        for (int s = 1; s <= WRITES; s++) {
            order[s - 1] = (long) s;
        }
        Arrays.sort(order, (a, b) -> KeyOrder.compareEntries(keys[keyOfWrite[a.intValue()]], a,
                keys[keyOfWrite[b.intValue()]], b));
        internalOrder = Arrays.stream(order).mapToLong(Long::longValue).toArray();
    }

    private void race(Memtable memtable, long readerSeed) throws InterruptedException {
        AtomicLong published = new AtomicLong(0);
        AtomicBoolean writerDone = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int s = 1; s <= WRITES && failure.get() == null; s++) {
                    int k = keyOfWrite[s];
                    memtable.add(keys[k], s, kindOfWrite[s], valueOfWrite(s));
                    published.set(s);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                writerDone.set(true);
            }
        }, "writer");
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            Random random = new Random(readerSeed + r);
            readers.add(new Thread(() -> {
                try {
                    int rounds = 0;
                    while ((!writerDone.get() || rounds < 50) && failure.get() == null) {
                        readOnce(memtable, published, random);
                        rounds++;
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "reader-" + r));
        }
        readers.forEach(Thread::start);
        writer.start();
        writer.join();
        for (Thread reader : readers) {
            reader.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("concurrent read or write failed", failure.get());
        }
        assertThat(memtable.entryCount()).isEqualTo(WRITES);
        assertThat(memtable.maxSequence()).isEqualTo(WRITES);
    }

    private void readOnce(Memtable memtable, AtomicLong published, Random random) {
        int dice = random.nextInt(100);
        long atStart = published.get();
        if (dice < 45) {
            int k = random.nextInt(10) < 3 ? random.nextInt(8) : random.nextInt(KEYS);
            long snapshot = random.nextLong(atStart + 1);
            checkGetAtSnapshot(memtable, k, snapshot);
        } else if (dice < 65) {
            // Often the key of the add in flight: where a torn or half-published entry would show.
            int k = random.nextBoolean() && atStart < WRITES ? keyOfWrite[(int) atStart + 1]
                    : random.nextInt(10) < 3 ? random.nextInt(8) : random.nextInt(KEYS);
            Found found = memtable.get(keys[k], Long.MAX_VALUE);
            long atEnd = published.get();
            // The writer is sequential: when atEnd was read, no add after atEnd + 1 had started.
            long low = newest(k, atStart);
            long high = newest(k, Math.min(WRITES, atEnd + 1));
            if (low == 0 && found == null) {
                return;
            }
            assertThat(found).as("key %d had version %d before the get", k, low).isNotNull();
            assertThat(found.sequence()).as("key %d", k).isBetween(low, high);
            assertThat(keyOfWrite[(int) found.sequence()]).as("a version of another key").isEqualTo(k);
            checkFound(found);
        } else if (dice < 75) {
            checkNewestVersionsOfTheKeyInFlight(memtable, atStart);
        } else if (dice < 97) {
            long snapshot = random.nextInt(4) == 0 ? random.nextLong(atStart + 1) : atStart;
            int steps = random.nextInt(20) == 0 ? Integer.MAX_VALUE : 1 + random.nextInt(200);
            byte[] seekKey = switch (random.nextInt(3)) {
                case 0 -> null;
                case 1 -> keys[random.nextInt(KEYS)];
                default -> keys[keyOfWrite[(int) Math.min(WRITES, atStart + 1)]];
            };
            checkIteratorAtSnapshot(memtable, snapshot, seekKey, steps);
        } else {
            checkIteratorAtNewest(memtable, atStart);
        }
    }

    private void checkGetAtSnapshot(Memtable memtable, int k, long snapshot) {
        Found found = memtable.get(keys[k], snapshot);
        long expected = newest(k, snapshot);
        if (expected == 0) {
            assertThat(found).as("key %d at snapshot %d", k, snapshot).isNull();
            return;
        }
        assertThat(found).as("key %d at snapshot %d", k, snapshot).isNotNull();
        assertThat(found.sequence()).as("key %d at snapshot %d", k, snapshot).isEqualTo(expected);
        checkFound(found);
    }

    private void checkIteratorAtSnapshot(Memtable memtable, long snapshot, byte[] seekKey, int maxSteps) {
        int position = 0;
        try (EntryIterator it = memtable.iterator(snapshot)) {
            if (seekKey == null) {
                it.seekToFirst();
            } else {
                it.seek(seekKey);
                position = firstAtOrAfter(seekKey);
            }
            int steps = 0;
            for (; position < internalOrder.length && steps < maxSteps; position++) {
                long s = internalOrder[position];
                if (s > snapshot) {
                    continue;
                }
                assertThat(it.valid()).as("ended before sequence %d at snapshot %d", s, snapshot).isTrue();
                assertThat(it.sequence()).as("at snapshot %d", snapshot).isEqualTo(s);
                checkEntry(it);
                it.next();
                steps++;
            }
            if (steps < maxSteps) {
                assertThat(it.valid()).as("went past the end at snapshot %d", snapshot).isFalse();
            }
        }
    }

    /**
     * At the newest snapshot, from the key being written now: every version read is whole and in order, and every
     * version of that key published before the seek is there.
     */
    private void checkNewestVersionsOfTheKeyInFlight(Memtable memtable, long publishedAtStart) {
        if (publishedAtStart >= WRITES) {
            return;
        }
        int k = keyOfWrite[(int) publishedAtStart + 1];
        BitSet seen = new BitSet();
        try (EntryIterator it = memtable.iterator(Long.MAX_VALUE)) {
            long previous = Long.MAX_VALUE;
            for (it.seek(keys[k]); it.valid() && Arrays.equals(it.key(), keys[k]); it.next()) {
                checkEntry(it);
                assertThat(it.sequence()).as("newest first").isLessThan(previous);
                previous = it.sequence();
                seen.set((int) it.sequence());
            }
        }
        for (long s : sequencesOfKey[k]) {
            if (s <= publishedAtStart) {
                assertThat(seen.get((int) s)).as("version %d of key %d", s, k).isTrue();
            }
        }
    }

    /** At the newest snapshot: a superset of what was published at the start, in order, nothing invented. */
    private void checkIteratorAtNewest(Memtable memtable, long publishedAtStart) {
        BitSet seen = new BitSet(WRITES + 1);
        try (EntryIterator it = memtable.iterator(Long.MAX_VALUE)) {
            byte[] previousKey = null;
            long previousSequence = 0;
            for (it.seekToFirst(); it.valid(); it.next()) {
                checkEntry(it);
                if (previousKey != null) {
                    assertThat(KeyOrder.compareEntries(previousKey, previousSequence, it.key(), it.sequence()))
                            .as("internal order").isNegative();
                }
                previousKey = it.key();
                previousSequence = it.sequence();
                seen.set((int) it.sequence());
            }
        }
        for (int s = 1; s <= publishedAtStart; s++) {
            assertThat(seen.get(s)).as("sequence %d was published before the walk began", s).isTrue();
        }
    }

    private void checkEntry(EntryIterator it) {
        int s = (int) it.sequence();
        assertThat(s).isBetween(1, WRITES);
        assertThat(it.key()).isEqualTo(keys[keyOfWrite[s]]);
        assertThat(it.kind()).isEqualTo(kindOfWrite[s]);
        assertThat(it.value()).isEqualTo(valueOfWrite(s));
    }

    private void checkFound(Found found) {
        int s = (int) found.sequence();
        assertThat(found.kind()).isEqualTo(kindOfWrite[s]);
        assertThat(found.value()).isEqualTo(valueOfWrite(s));
    }

    /** The newest sequence of key k that is at most {@code snapshot}; 0 if none. */
    private long newest(int k, long snapshot) {
        long[] seqs = sequencesOfKey[k];
        int i = Arrays.binarySearch(seqs, snapshot);
        int at = i >= 0 ? i : -i - 2;
        return at >= 0 ? seqs[at] : 0;
    }

    private int firstAtOrAfter(byte[] key) {
        int lo = 0;
        int hi = internalOrder.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (KeyOrder.compareKeys(keys[keyOfWrite[(int) internalOrder[mid]]], key) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private byte[] valueOfWrite(int s) {
        return kindOfWrite[s] == EntryKind.DELETE ? new byte[0] : value(keyOfWrite[s], s);
    }

    private static byte[] key(int i) {
        return String.format("k%05d", i).getBytes();
    }

    private static byte[] value(int key, long sequence) {
        byte[] v = new byte[(int) ((sequence * 7 + key) % 509)];
        for (int j = 0; j < v.length; j++) {
            v[j] = (byte) (sequence + j * 31 + key);
        }
        return v;
    }
}
