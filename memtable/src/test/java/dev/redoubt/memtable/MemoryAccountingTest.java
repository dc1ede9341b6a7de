package dev.redoubt.memtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryKind;
import org.junit.jupiter.api.Test;

/**
 * The accounting rule, worked by hand: memoryBytes = the arena's used bytes = the head node (128 bytes, placed
 * at the first add) + one node per entry (32 + 8 x height + key + value, rounded up to 8) + abandoned chunk
 * tails. Heights are fixed at 1 here ({@link #oneLevel}) so the figures can be written out, not computed by the
 * code under test. (The random model test checks the same rule with random heights via {@link ArenaModel}.)
 */
class MemoryAccountingTest {
    private static final int HEAD = 128;

    private static Memtable oneLevel(long capacityBytes, int chunkBytes) {
        return new Memtable(capacityBytes, chunkBytes, () -> 1);
    }

    @Test
    void emptyMemtableHoldsAndReservesNothing() {
        try (Memtable m = new Memtable(1 << 20)) {
            assertThat(m.memoryBytes()).isZero();
            assertThat(m.arenaReservedBytes()).isZero();
            assertThat(m.entryCount()).isZero();
            assertThat(m.isFull()).isFalse();
        }
    }

    @Test
    void memoryIsTheHeadPlusOneNodePerEntryRoundedToEightBytes() {
        try (Memtable m = oneLevel(1 << 20, 1024)) {
            m.add(bytes(10), 1, EntryKind.PUT, bytes(20)); // 32 + 8 + 30 = 70 -> 72
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 72);
            m.add(bytes(5), 2, EntryKind.DELETE, null); // 32 + 8 + 5 = 45 -> 48
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 72 + 48);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024);
        }
    }

    @Test
    void emptyKeyAndEmptyValueCostOnlyTheNodeHeader() {
        try (Memtable m = oneLevel(1 << 20, 1024)) {
            m.add(new byte[0], 1, EntryKind.PUT, new byte[0]);
            m.add(new byte[0], 2, EntryKind.DELETE, new byte[0]);
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 2 * 40);
        }
    }

    @Test
    void eachLevelAddsEightBytes() {
        try (Memtable m = new Memtable(1 << 20, 1024, () -> 4)) {
            m.add(bytes(8), 1, EntryKind.PUT, bytes(8)); // 32 + 4 x 8 + 16 = 80
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 80);
        }
    }

    @Test
    void chunkTailThatCannotHoldTheNextRecordIsCountedAsUsed() {
        try (Memtable m = oneLevel(1 << 20, 1024)) {
            for (int i = 0; i < 3; i++) {
                m.add(bytes(100), i, EntryKind.PUT, bytes(100)); // 240-byte nodes: head + 3 fill 848 of 1024
            }
            assertThat(m.memoryBytes()).isEqualTo(848);
            m.add(bytes(100), 3, EntryKind.PUT, bytes(100)); // 176 bytes left: abandoned, a second chunk starts
            assertThat(m.memoryBytes()).isEqualTo(848 + 176 + 240);
            assertThat(m.arenaReservedBytes()).isEqualTo(2 * 1024);
        }
    }

    @Test
    void recordOverAQuarterChunkGetsAnExactChunkOfItsOwnAndTheCurrentChunkStaysCurrent() {
        try (Memtable m = oneLevel(1 << 20, 1024)) {
            m.add(bytes(50), 1, EntryKind.PUT, bytes(50)); // 140 -> 144, after the head in chunk 1
            m.add(bytes(7), 2, EntryKind.PUT, bytes(250)); // 297 -> 304 > 1024 / 4: a chunk of exactly 304 bytes
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 144 + 304);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024 + 304);
            m.add(bytes(6), 3, EntryKind.PUT, bytes(210)); // exactly 256 = a quarter: goes into chunk 1
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 144 + 304 + 256);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024 + 304);
        }
    }

    @Test
    void rejectedDuplicateLeavesMemoryCountsAndChunksUnchanged() {
        try (Memtable m = oneLevel(1 << 20, 1024)) {
            for (int i = 0; i < 3; i++) {
                m.add(new byte[] {(byte) i}, 7, EntryKind.PUT, bytes(199)); // 240 each: 848 used, 176 free
            }
            // This duplicate would have abandoned the tail and started a chunk, and the next one would have taken
            // a chunk of its own: neither may allocate.
            assertThatThrownBy(() -> m.add(new byte[] {1}, 7, EntryKind.PUT, bytes(199)))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> m.add(new byte[] {1}, 7, EntryKind.PUT, bytes(600)))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(m.memoryBytes()).isEqualTo(848);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024);
            assertThat(m.entryCount()).isEqualTo(3);
            m.add(new byte[] {9}, 7, EntryKind.PUT, bytes(135)); // 32 + 8 + 136 = 176: fits the tail exactly
            assertThat(m.memoryBytes()).isEqualTo(1024);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024);
        }
    }

    @Test
    void isFullOnceMemoryReachesCapacityAndTheAddThatCrossesIsStillAccepted() {
        try (Memtable m = oneLevel(1000, 4096)) {
            for (int i = 0; i < 6; i++) {
                m.add(bytes(50), i, EntryKind.PUT, bytes(50)); // 144 each
                assertThat(m.isFull()).isFalse();
            }
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 6 * 144);
            m.add(bytes(50), 6, EntryKind.PUT, bytes(50));
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 7 * 144);
            assertThat(m.isFull()).isTrue();
            m.add(bytes(50), 7, EntryKind.PUT, bytes(50)); // the engine switches memtables; adds still work
            assertThat(m.entryCount()).isEqualTo(8);
        }
    }

    @Test
    void isFullAtExactlyTheCapacity() {
        try (Memtable m = oneLevel(HEAD + 144, 4096)) {
            m.add(bytes(50), 1, EntryKind.PUT, bytes(50));
            assertThat(m.memoryBytes()).isEqualTo(HEAD + 144);
            assertThat(m.isFull()).isTrue();
        }
    }

    @Test
    void productionHeightsAverageAboutFourThirdsSoAnEntryCostsAbout43BytesBesideItsKeyAndValue() {
        try (Memtable m = new Memtable(64L << 20)) {
            int n = 100_000;
            for (int i = 0; i < n; i++) {
                m.add(String.format("key%08d", i).getBytes(java.nio.charset.StandardCharsets.US_ASCII), i,
                        EntryKind.PUT, bytes(5)); // 11 + 5 bytes: 8-aligned with the 32-byte header
            }
            // One chunk of 1 MiB abandons at most a quarter of itself: bound the tails by chunk count.
            double overhead = (double) (m.memoryBytes() - HEAD) / n - 16;
            assertThat(overhead).as("bytes per entry beside the key and value").isBetween(40.0, 48.0);
            assertThat(m.memoryBytes()).isLessThanOrEqualTo(m.arenaReservedBytes());
        }
    }

    @Test
    void defaultChunkIsASixteenthOfCapacityAsAPowerOfTwoWithin4KiBAnd1MiB() {
        assertThat(Memtable.defaultChunkBytes(64L << 20)).isEqualTo(1 << 20);
        assertThat(Memtable.defaultChunkBytes(Long.MAX_VALUE)).isEqualTo(1 << 20);
        assertThat(Memtable.defaultChunkBytes(4L << 20)).isEqualTo(256 * 1024);
        assertThat(Memtable.defaultChunkBytes(3L << 20)).isEqualTo(128 * 1024);
        assertThat(Memtable.defaultChunkBytes(1000)).isEqualTo(4096);
        assertThat(Memtable.defaultChunkBytes(1)).isEqualTo(4096);
        try (Memtable m = new Memtable(64L << 20)) {
            assertThat(m.chunkBytes()).isEqualTo(1 << 20);
        }
    }

    private static byte[] bytes(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + length);
        }
        return b;
    }
}
