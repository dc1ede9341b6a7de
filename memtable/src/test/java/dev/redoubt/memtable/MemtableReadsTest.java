package dev.redoubt.memtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Found;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Point lookups and iteration at snapshots: MVCC by sequence, tombstones, internal order. */
class MemtableReadsTest {

    @Test
    void forEachVersionHandsEveryVersionInInternalOrderWithItsValueReadFromTheArena() throws Exception {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(b("b"), 5, EntryKind.PUT, b("b5"));
            m.add(b("a"), 7, EntryKind.DELETE, null);
            m.add(b("b"), 9, EntryKind.PUT, new byte[3000]);
            m.add(b("a"), 3, EntryKind.PUT, b("a3"));
            List<String> seen = new ArrayList<>();
            m.forEachVersion((key, sequence, kind, value, offset, length) -> {
                byte[] v = new byte[length];
                value.getBytes(offset, v);
                seen.add(new String(key, StandardCharsets.UTF_8) + "@" + sequence + " " + kind + " "
                        + (length > 100 ? length + " bytes" : new String(v, StandardCharsets.UTF_8)));
            });
            assertThat(seen).containsExactly("a@7 DELETE ", "a@3 PUT a3", "b@9 PUT 3000 bytes", "b@5 PUT b5");
            m.close();
            assertThatThrownBy(() -> m.forEachVersion((key, sequence, kind, value, offset, length) -> { }))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void versionsAddedFromSlicesOfDirectAndHeapBuffersReadBackLikeThoseAddedFromArrays() {
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(64);
        org.agrona.concurrent.UnsafeBuffer offHeap = new org.agrona.concurrent.UnsafeBuffer(direct);
        offHeap.putBytes(3, b("key-long-enough"));
        offHeap.putBytes(30, b("value-1"));
        org.agrona.concurrent.UnsafeBuffer onHeap = new org.agrona.concurrent.UnsafeBuffer(new byte[40], 5, 30);
        onHeap.putBytes(1, b("key-long-enough"));
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(offHeap, 3, 15, 1, EntryKind.PUT, 30, 7);
            m.add(onHeap, 1, 15, 2, EntryKind.DELETE, 0, 0);
            m.add(b("key-long-enougg"), 3, EntryKind.PUT, b("before"));
            assertThat(m.get(b("key-long-enough"), 1)).satisfies(f -> assertFound(f, EntryKind.PUT, 1, "value-1"));
            assertThat(m.get(b("key-long-enough"), 2)).satisfies(f -> assertFound(f, EntryKind.DELETE, 2, ""));
            assertThatThrownBy(() -> m.add(offHeap, 3, 15, 1, EntryKind.PUT, 30, 7))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("already in this memtable");
            assertThatThrownBy(() -> m.add(offHeap, 60, 15, 4, EntryKind.PUT, 0, 1))
                    .as("a slice past the buffer's end").isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> m.add(onHeap, 1, 15, 5, EntryKind.DELETE, 0, 3))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DELETE");
            try (EntryIterator it = m.iterator(Long.MAX_VALUE)) {
                it.seekToFirst();
                assertThat(new String(it.key(), StandardCharsets.UTF_8)).isEqualTo("key-long-enougg");
                it.next();
                assertThat(it.sequence()).isEqualTo(2);
                it.next();
                assertThat(it.value()).isEqualTo(b("value-1"));
            }
        }
    }

    @Test
    void getReturnsTheNewestVersionAtOrBelowTheSnapshot() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(b("k"), 10, EntryKind.PUT, b("v10"));
            m.add(b("k"), 30, EntryKind.PUT, b("v30"));
            m.add(b("k"), 20, EntryKind.PUT, b("v20"));
            assertThat(m.get(b("k"), Long.MAX_VALUE)).satisfies(f -> assertFound(f, EntryKind.PUT, 30, "v30"));
            assertThat(m.get(b("k"), 30)).satisfies(f -> assertFound(f, EntryKind.PUT, 30, "v30"));
            assertThat(m.get(b("k"), 29)).satisfies(f -> assertFound(f, EntryKind.PUT, 20, "v20"));
            assertThat(m.get(b("k"), 19)).satisfies(f -> assertFound(f, EntryKind.PUT, 10, "v10"));
        }
    }

    @Test
    void getReturnsNullWhenNoVersionIsOldEnoughOrTheKeyIsAbsent() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(b("b"), 10, EntryKind.PUT, b("x"));
            m.add(b("d"), 5, EntryKind.PUT, b("y"));
            assertThat(m.get(b("b"), 9)).isNull();
            assertThat(m.get(b("a"), Long.MAX_VALUE)).isNull();
            assertThat(m.get(b("c"), Long.MAX_VALUE)).as("between two keys").isNull();
            assertThat(m.get(b("bb"), Long.MAX_VALUE)).as("an extension of a key").isNull();
            assertThat(m.get(b("e"), Long.MAX_VALUE)).isNull();
        }
    }

    @Test
    void tombstoneIsFoundAsDeleteWithAnEmptyValueAndHidesOnlyOlderVersions() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(b("k"), 1, EntryKind.PUT, b("old"));
            m.add(b("k"), 2, EntryKind.DELETE, null);
            m.add(b("k"), 3, EntryKind.PUT, b("new"));
            assertThat(m.get(b("k"), 2)).satisfies(f -> assertFound(f, EntryKind.DELETE, 2, ""));
            assertThat(m.get(b("k"), 1)).satisfies(f -> assertFound(f, EntryKind.PUT, 1, "old"));
            assertThat(m.get(b("k"), 3)).satisfies(f -> assertFound(f, EntryKind.PUT, 3, "new"));
        }
    }

    @Test
    void emptyKeyAndEmptyValueAreOrdinaryEntries() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(new byte[0], 4, EntryKind.PUT, new byte[0]);
            m.add(b("a"), 5, EntryKind.PUT, b("x"));
            assertThat(m.get(new byte[0], 4)).satisfies(f -> assertFound(f, EntryKind.PUT, 4, ""));
            assertThat(scan(m, Long.MAX_VALUE)).containsExactly("@4=", "a@5=x");
        }
    }

    @Test
    void keysOrderAsUnsignedBytesShorterFirstThenVersionsNewestFirst() {
        try (Memtable m = new Memtable(1 << 20)) {
            byte[][] keys = {
                {(byte) 0xff}, {(byte) 0x80}, {0x7f}, {0x7f, 0x00}, {}, {0x00},
                // Longer than 8 bytes: the word-at-a-time path, differing in the sign bit and after the first word.
                {1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 3, (byte) 0x84, 5, 6, 7, 8},
                {1, 2, 3, 4, 5, 6, 7, 8, (byte) 0x80},
            };
            long sequence = 100;
            for (byte[] key : keys) {
                m.add(key, sequence--, EntryKind.PUT, new byte[0]);
            }
            m.add(new byte[] {0x7f}, 500, EntryKind.PUT, new byte[0]);
            List<String> order = new ArrayList<>();
            try (EntryIterator it = m.iterator(Long.MAX_VALUE)) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    order.add(hex(it.key()) + "@" + it.sequence());
                }
            }
            assertThat(order).containsExactly("@96", "00@95", "0102030405060708@93", "010203040506070809@94",
                    "010203040506070880@91", "0102038405060708@92", "7f@500", "7f@98", "7f00@97", "80@99", "ff@100");
        }
    }

    @Test
    void iteratorStartsUnpositionedAndRefusesAccessorsThere() {
        try (Memtable m = new Memtable(1 << 20); EntryIterator it = m.iterator(Long.MAX_VALUE)) {
            m.add(b("a"), 1, EntryKind.PUT, b("x"));
            assertThat(it.valid()).isFalse();
            assertThatThrownBy(it::key).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(it::next).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void iteratorAtASnapshotSkipsNewerVersionsAndKeysWithOnlyNewerVersions() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(b("a"), 5, EntryKind.PUT, b("a5"));
            m.add(b("a"), 15, EntryKind.PUT, b("a15"));
            m.add(b("b"), 12, EntryKind.PUT, b("b12"));
            m.add(b("c"), 8, EntryKind.DELETE, null);
            m.add(b("c"), 3, EntryKind.PUT, b("c3"));
            assertThat(scan(m, 10)).containsExactly("a@5=a5", "c@8~", "c@3=c3");
            assertThat(scan(m, Long.MAX_VALUE)).containsExactly("a@15=a15", "a@5=a5", "b@12=b12", "c@8~", "c@3=c3");
            assertThat(scan(m, 2)).isEmpty();
        }
    }

    @Test
    void seekLandsOnTheNewestVisibleVersionOfTheFirstKeyAtOrAfterTheTarget() {
        try (Memtable m = new Memtable(1 << 20); EntryIterator it = m.iterator(20)) {
            m.add(b("b"), 30, EntryKind.PUT, b("b30"));
            m.add(b("b"), 20, EntryKind.PUT, b("b20"));
            m.add(b("b"), 10, EntryKind.PUT, b("b10"));
            m.add(b("d"), 1, EntryKind.PUT, b("d1"));
            it.seek(b("b"));
            assertThat(it.sequence()).isEqualTo(20);
            assertThat(it.value()).isEqualTo(b("b20"));
            it.seek(b("c"));
            assertThat(it.key()).isEqualTo(b("d"));
            it.seek(b("a"));
            assertThat(it.key()).isEqualTo(b("b"));
            it.seek(b("e"));
            assertThat(it.valid()).isFalse();
            it.seekToFirst();
            assertThat(it.sequence()).isEqualTo(20);
        }
    }

    @Test
    void sequencesNeedNotIncreaseAcrossAddsAndCountersTrackThem() {
        try (Memtable m = new Memtable(1 << 20)) {
            assertThat(m.minSequence()).isEqualTo(Memtable.NO_SEQUENCE);
            assertThat(m.maxSequence()).isEqualTo(Memtable.NO_SEQUENCE);
            m.add(b("x"), 50, EntryKind.PUT, b("1"));
            m.add(b("y"), 7, EntryKind.PUT, b("2"));
            m.add(b("x"), 0, EntryKind.DELETE, null);
            m.add(b("z"), 90, EntryKind.PUT, b("3"));
            assertThat(m.entryCount()).isEqualTo(4);
            assertThat(m.minSequence()).isZero();
            assertThat(m.maxSequence()).isEqualTo(90);
        }
    }

    @Test
    void storedBytesAreCopiesSoTheCallerMayReuseItsArraysAndKeepWhatItReads() {
        try (Memtable m = new Memtable(1 << 20)) {
            byte[] key = b("key");
            byte[] value = b("value");
            m.add(key, 1, EntryKind.PUT, value);
            key[0] = 'X';
            value[0] = 'X';
            Found found = m.get(b("key"), 1);
            assertThat(found.value()).isEqualTo(b("value"));
            found.value()[0] = 'Y';
            assertThat(m.get(b("key"), 1).value()).isEqualTo(b("value"));
        }
    }

    private static List<String> scan(Memtable m, long snapshot) {
        List<String> out = new ArrayList<>();
        try (EntryIterator it = m.iterator(snapshot)) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                String k = new String(it.key(), StandardCharsets.ISO_8859_1);
                out.add(k + "@" + it.sequence() + (it.kind() == EntryKind.DELETE ? "~"
                        : "=" + new String(it.value(), StandardCharsets.ISO_8859_1)));
            }
        }
        return out;
    }

    private static void assertFound(Found f, EntryKind kind, long sequence, String value) {
        assertThat(f).isNotNull();
        assertThat(f.kind()).isEqualTo(kind);
        assertThat(f.sequence()).isEqualTo(sequence);
        assertThat(f.value()).isEqualTo(b(value));
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
