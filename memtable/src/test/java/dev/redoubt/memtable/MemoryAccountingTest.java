package dev.redoubt.memtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryKind;
import org.junit.jupiter.api.Test;

/**
 * The accounting rule, worked by hand: memoryBytes = key and value bytes + abandoned chunk tails +
 * {@link Memtable#INDEX_BYTES_PER_ENTRY} (88) per entry. The figures below are written out, not computed by the
 * code under test. (The random model test checks the same rule on thousands of adds via {@link ArenaModel}.)
 */
class MemoryAccountingTest {
    private static final int PER_ENTRY = 88;

    @Test
    void indexOverheadIsTheDocumentedEightyEightBytes() {
        assertThat(Memtable.INDEX_BYTES_PER_ENTRY).isEqualTo(PER_ENTRY);
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
    void memoryIsKeyAndValueBytesPlusTheIndexOverheadPerEntry() {
        try (Memtable m = new Memtable(1 << 20, 1024)) {
            m.add(bytes(10), 1, EntryKind.PUT, bytes(20));
            assertThat(m.memoryBytes()).isEqualTo(30 + PER_ENTRY);
            m.add(bytes(5), 2, EntryKind.DELETE, null);
            assertThat(m.memoryBytes()).isEqualTo(30 + 5 + 2 * PER_ENTRY);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024);
        }
    }

    @Test
    void emptyKeyAndEmptyValueCostOnlyTheIndexOverhead() {
        try (Memtable m = new Memtable(1 << 20, 1024)) {
            m.add(new byte[0], 1, EntryKind.PUT, new byte[0]);
            m.add(new byte[0], 2, EntryKind.DELETE, new byte[0]);
            assertThat(m.memoryBytes()).isEqualTo(2 * PER_ENTRY);
            assertThat(m.arenaReservedBytes()).as("no chunk needed yet").isZero();
        }
    }

    @Test
    void chunkTailThatCannotHoldTheNextRecordIsCountedAsUsed() {
        try (Memtable m = new Memtable(1 << 20, 1024)) {
            for (int i = 0; i < 5; i++) {
                m.add(bytes(100), i, EntryKind.PUT, bytes(100)); // 200-byte records: 5 fill 1000 of 1024
            }
            assertThat(m.memoryBytes()).isEqualTo(1000 + 5 * PER_ENTRY);
            m.add(bytes(100), 5, EntryKind.PUT, bytes(100)); // 24 bytes left: abandoned, a second chunk starts
            assertThat(m.memoryBytes()).isEqualTo(1000 + 24 + 200 + 6 * PER_ENTRY);
            assertThat(m.arenaReservedBytes()).isEqualTo(2 * 1024);
        }
    }

    @Test
    void recordOverAQuarterChunkGetsAnExactChunkOfItsOwnAndTheCurrentChunkStaysCurrent() {
        try (Memtable m = new Memtable(1 << 20, 1024)) {
            m.add(bytes(50), 1, EntryKind.PUT, bytes(50)); // 100 bytes at the start of chunk 1
            m.add(bytes(7), 2, EntryKind.PUT, bytes(250)); // 257 > 1024 / 4: a chunk of exactly 257 bytes
            assertThat(m.memoryBytes()).isEqualTo(100 + 257 + 2 * PER_ENTRY);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024 + 257);
            m.add(bytes(6), 3, EntryKind.PUT, bytes(250)); // exactly 256 = a quarter: goes into chunk 1
            assertThat(m.memoryBytes()).isEqualTo(100 + 257 + 256 + 3 * PER_ENTRY);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024 + 257);
        }
    }

    @Test
    void rejectedDuplicateLeavesMemoryCountsAndChunksUnchanged() {
        try (Memtable m = new Memtable(1 << 20, 1024)) {
            for (int i = 0; i < 5; i++) {
                m.add(new byte[] {(byte) i}, 7, EntryKind.PUT, bytes(199));
            }
            long memory = m.memoryBytes();
            // This duplicate would have abandoned the tail and started a chunk, and the next one would have taken
            // a chunk of its own: both must be taken back.
            assertThatThrownBy(() -> m.add(new byte[] {3}, 7, EntryKind.PUT, bytes(199)))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> m.add(new byte[] {3}, 7, EntryKind.PUT, bytes(600)))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(m.memoryBytes()).isEqualTo(memory).isEqualTo(1000 + 5 * PER_ENTRY);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024);
            assertThat(m.entryCount()).isEqualTo(5);
            m.add(new byte[] {9}, 7, EntryKind.PUT, bytes(23)); // 24 bytes: fits the tail exactly
            assertThat(m.memoryBytes()).isEqualTo(1024 + 6 * PER_ENTRY);
            assertThat(m.arenaReservedBytes()).isEqualTo(1024);
        }
    }

    @Test
    void isFullOnceMemoryReachesCapacityAndTheAddThatCrossesIsStillAccepted() {
        try (Memtable m = new Memtable(1000, 4096)) {
            for (int i = 0; i < 5; i++) {
                m.add(bytes(50), i, EntryKind.PUT, bytes(50)); // 188 each
                assertThat(m.isFull()).isFalse();
            }
            assertThat(m.memoryBytes()).isEqualTo(940);
            m.add(bytes(50), 5, EntryKind.PUT, bytes(50));
            assertThat(m.memoryBytes()).isEqualTo(1128);
            assertThat(m.isFull()).isTrue();
            m.add(bytes(50), 6, EntryKind.PUT, bytes(50)); // the engine switches memtables; adds still work
            assertThat(m.entryCount()).isEqualTo(7);
        }
    }

    @Test
    void isFullAtExactlyTheCapacity() {
        try (Memtable m = new Memtable(188, 4096)) {
            m.add(bytes(50), 1, EntryKind.PUT, bytes(50));
            assertThat(m.memoryBytes()).isEqualTo(188);
            assertThat(m.isFull()).isTrue();
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
