package dev.redoubt.memtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Found;
import dev.redoubt.common.KeyOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random adds, gets at random snapshots and iterators with seeks at random snapshots, checked step by step
 * against a {@link TreeMap} keyed by (key, sequence) in internal order, with the memory figure recomputed by
 * {@link ArenaModel}. Small chunk sizes make chunk changes, abandoned tails and own-chunk records frequent.
 */
class MemtableModelTest {
    private static final long SEED = Seeded.seed();
    private static final int OPERATIONS = 10_000;
    private static final long MAX_SEQUENCE = 6000;

    record ModelKey(byte[] key, long sequence) {
        static int compare(ModelKey a, ModelKey b) {
            return KeyOrder.compareEntries(a.key, a.sequence, b.key, b.sequence);
        }

        @Override
        public String toString() {
            return HexFormat.of().formatHex(key) + "@" + sequence;
        }
    }

    record ModelValue(EntryKind kind, byte[] value) {
    }

    @ParameterizedTest(name = "chunkBytes={0}")
    @ValueSource(ints = {64, 1024, 64 * 1024})
    void randomAddsGetsAndSeeksMatchATreeMapModel(int chunkBytes) {
        // The printed seed is SEED itself; each chunk size derives its own stream from it, so a replay with
        // -Dredoubt.seed=SEED repeats every parameter exactly.
        Seeded.run(SEED, random -> new Run(new Random(random.nextLong() ^ chunkBytes), chunkBytes).go());
    }

    private static final class Run {
        final Random random;
        final int chunkBytes;
        final NavigableMap<ModelKey, ModelValue> model = new TreeMap<>(ModelKey::compare);
        final ArenaModel arena;
        final List<byte[]> keyPool = new ArrayList<>();
        final Memtable memtable;
        /** The height the memtable drew for its last node: the test draws them, so the model knows them. */
        int lastHeight;

        Run(Random random, int chunkBytes) {
            this.random = random;
            this.chunkBytes = chunkBytes;
            this.arena = new ArenaModel(chunkBytes);
            this.memtable = new Memtable(1 << 20, chunkBytes, () -> lastHeight = ArenaModel.drawHeight(random));
            keyPool.add(new byte[0]);
            keyPool.add(new byte[] {0x00});
            keyPool.add(new byte[] {0x7f});
            keyPool.add(new byte[] {(byte) 0x80});
            keyPool.add(new byte[] {(byte) 0xff, (byte) 0xff});
            while (keyPool.size() < 40) {
                if (random.nextInt(3) == 0) {
                    // An extension of an existing key: exercises "shorter first on a common prefix".
                    byte[] base = keyPool.get(random.nextInt(keyPool.size()));
                    byte[] longer = Arrays.copyOf(base, base.length + 1 + random.nextInt(9));
                    for (int i = base.length; i < longer.length; i++) {
                        longer[i] = (byte) random.nextInt(256);
                    }
                    keyPool.add(longer);
                } else {
                    keyPool.add(randomBytes(random.nextInt(20)));
                }
            }
        }

        void go() {
            try (memtable) {
                for (int op = 0; op < OPERATIONS; op++) {
                    int dice = random.nextInt(100);
                    if (dice < 55) {
                        add();
                    } else if (dice < 62) {
                        addDuplicate();
                    } else if (dice < 82) {
                        get();
                    } else if (dice < 97) {
                        iterate();
                    } else {
                        checkCounters();
                    }
                }
                checkCounters();
                checkFullScan(Long.MAX_VALUE);
            }
            assertThat(memtable.isReleased()).isTrue();
        }

        void add() {
            byte[] key = pickKey();
            long sequence;
            do {
                sequence = random.nextLong(MAX_SEQUENCE);
            } while (model.containsKey(new ModelKey(key, sequence)));
            EntryKind kind = random.nextInt(4) == 0 ? EntryKind.DELETE : EntryKind.PUT;
            byte[] value = kind == EntryKind.DELETE ? new byte[0] : randomValue();
            memtable.add(key.clone(), sequence, kind, kind == EntryKind.DELETE && random.nextBoolean() ? null : value);
            model.put(new ModelKey(key, sequence), new ModelValue(kind, value));
            arena.add(key.length, value.length, lastHeight);
            assertThat(memtable.memoryBytes()).as("memory after adding %s", new ModelKey(key, sequence))
                    .isEqualTo(arena.memoryBytes());
        }

        void addDuplicate() {
            if (model.isEmpty()) {
                return;
            }
            List<ModelKey> keys = new ArrayList<>(model.keySet());
            ModelKey existing = keys.get(random.nextInt(keys.size()));
            long memoryBefore = memtable.memoryBytes();
            long reservedBefore = memtable.arenaReservedBytes();
            assertThatThrownBy(() -> memtable.add(existing.key.clone(), existing.sequence, EntryKind.PUT,
                    randomValue()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("already in this memtable");
            assertThat(memtable.memoryBytes()).isEqualTo(memoryBefore);
            assertThat(memtable.arenaReservedBytes()).isEqualTo(reservedBefore);
            assertThat(memtable.entryCount()).isEqualTo(model.size());
        }

        void get() {
            byte[] key = random.nextInt(10) == 0 ? randomBytes(random.nextInt(12)) : pickKey();
            long snapshot = randomSnapshot();
            Found found = memtable.get(key, snapshot);
            Map.Entry<ModelKey, ModelValue> expected = model.ceilingEntry(new ModelKey(key, snapshot));
            if (expected == null || !Arrays.equals(expected.getKey().key, key)) {
                assertThat(found).as("get %s at %d", HexFormat.of().formatHex(key), snapshot).isNull();
                return;
            }
            assertThat(found).as("get %s at %d", HexFormat.of().formatHex(key), snapshot).isNotNull();
            assertThat(found.sequence()).isEqualTo(expected.getKey().sequence);
            assertThat(found.kind()).isEqualTo(expected.getValue().kind);
            assertThat(found.value()).isEqualTo(expected.getValue().value);
        }

        void iterate() {
            long snapshot = randomSnapshot();
            try (EntryIterator it = memtable.iterator(snapshot)) {
                assertThat(it.valid()).as("a new iterator is unpositioned").isFalse();
                int seeks = 1 + random.nextInt(3);
                for (int s = 0; s < seeks; s++) {
                    if (random.nextInt(4) == 0) {
                        it.seekToFirst();
                        walkAndCompare(it, model, snapshot, random.nextInt(4) == 0 ? Integer.MAX_VALUE : 30);
                    } else {
                        byte[] target = random.nextInt(5) == 0 ? randomBytes(random.nextInt(12)) : pickKey();
                        it.seek(target);
                        NavigableMap<ModelKey, ModelValue> from = model.tailMap(new ModelKey(target, Long.MAX_VALUE), true);
                        walkAndCompare(it, from, snapshot, random.nextInt(4) == 0 ? Integer.MAX_VALUE : 30);
                    }
                }
            }
        }

        void checkFullScan(long snapshot) {
            try (EntryIterator it = memtable.iterator(snapshot)) {
                it.seekToFirst();
                walkAndCompare(it, model, snapshot, Integer.MAX_VALUE);
            }
        }

        void walkAndCompare(EntryIterator it, NavigableMap<ModelKey, ModelValue> from, long snapshot, int maxSteps) {
            int steps = 0;
            for (Map.Entry<ModelKey, ModelValue> e : from.entrySet()) {
                if (steps == maxSteps) {
                    return;
                }
                if (e.getKey().sequence > snapshot) {
                    continue;
                }
                assertThat(it.valid()).as("iterator ended before %s (snapshot %d)", e.getKey(), snapshot).isTrue();
                assertThat(new ModelKey(it.key(), it.sequence())).as("step %d at snapshot %d", steps, snapshot)
                        .usingComparator(ModelKey::compare).isEqualTo(e.getKey());
                assertThat(it.kind()).isEqualTo(e.getValue().kind);
                assertThat(it.value()).isEqualTo(e.getValue().value);
                it.next();
                steps++;
            }
            assertThat(it.valid()).as("iterator goes past the model's end at snapshot %d", snapshot).isFalse();
        }

        void checkCounters() {
            assertThat(memtable.entryCount()).isEqualTo(model.size());
            assertThat(memtable.memoryBytes()).isEqualTo(arena.memoryBytes());
            assertThat(memtable.arenaReservedBytes()).isEqualTo(arena.reservedBytes);
            assertThat(memtable.isFull()).isEqualTo(arena.memoryBytes() >= memtable.capacityBytes());
            long min = model.keySet().stream().mapToLong(ModelKey::sequence).min().orElse(Memtable.NO_SEQUENCE);
            long max = model.keySet().stream().mapToLong(ModelKey::sequence).max().orElse(Memtable.NO_SEQUENCE);
            assertThat(memtable.minSequence()).isEqualTo(min);
            assertThat(memtable.maxSequence()).isEqualTo(max);
        }

        long randomSnapshot() {
            return switch (random.nextInt(10)) {
                case 0 -> Long.MAX_VALUE;
                case 1 -> -1;
                default -> random.nextLong(MAX_SEQUENCE + 10);
            };
        }

        byte[] pickKey() {
            return keyPool.get(random.nextInt(keyPool.size()));
        }

        byte[] randomValue() {
            int dice = random.nextInt(100);
            int length = dice < 20 ? 0 : dice < 70 ? 1 + random.nextInt(16) : dice < 95 ? random.nextInt(300)
                    : random.nextInt(5000);
            return randomBytes(length);
        }

        byte[] randomBytes(int length) {
            byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            return bytes;
        }
    }
}
