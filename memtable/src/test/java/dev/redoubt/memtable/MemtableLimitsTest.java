package dev.redoubt.memtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Limits;
import org.junit.jupiter.api.Test;

/** Bounds and argument checks: every refusal names what was wrong and leaves the memtable as it was. */
class MemtableLimitsTest {

    @Test
    void keyOfExactlyTheLimitIsAccepted() {
        try (Memtable m = new Memtable(1 << 20)) {
            byte[] key = filled(Limits.MAX_KEY_BYTES, 7);
            m.add(key, 1, EntryKind.PUT, new byte[] {1});
            assertThat(m.get(key, 1).value()).containsExactly(1);
        }
    }

    @Test
    void keyOverTheLimitIsRefusedNamingTheLimit() {
        try (Memtable m = new Memtable(1 << 20)) {
            assertThatThrownBy(() -> m.add(new byte[Limits.MAX_KEY_BYTES + 1], 1, EntryKind.PUT, new byte[0]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(Limits.MAX_KEY_BYTES)).hasMessageContaining("MAX_KEY_BYTES");
            assertUntouched(m);
        }
    }

    @Test
    void valueOfExactlyTheLimitIsAcceptedInAChunkOfItsOwn() {
        try (Memtable m = new Memtable(64L << 20, 1 << 20, () -> 1)) {
            byte[] value = filled(Limits.MAX_VALUE_BYTES, 3);
            m.add(new byte[] {1}, 1, EntryKind.PUT, value);
            assertThat(m.get(new byte[] {1}, 1).value()).isEqualTo(value);
            // The head (128 bytes) in a 1 MiB chunk; the node (32 + 8 + 1 + the value, rounded up to 8) alone.
            long node = (32 + 8 + 1 + Limits.MAX_VALUE_BYTES + 7) / 8 * 8;
            assertThat(m.arenaReservedBytes()).isEqualTo((1 << 20) + node);
            assertThat(m.memoryBytes()).isEqualTo(128 + node);
        }
    }

    @Test
    void valueOverTheLimitIsRefusedNamingTheLimit() {
        try (Memtable m = new Memtable(1 << 20)) {
            assertThatThrownBy(() -> m.add(new byte[] {1}, 1, EntryKind.PUT, new byte[Limits.MAX_VALUE_BYTES + 1]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(Limits.MAX_VALUE_BYTES))
                    .hasMessageContaining("MAX_VALUE_BYTES");
            assertUntouched(m);
        }
    }

    @Test
    void negativeSequenceIsRefused() {
        try (Memtable m = new Memtable(1 << 20)) {
            assertThatThrownBy(() -> m.add(new byte[] {1}, -1, EntryKind.PUT, new byte[0]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sequence");
            assertUntouched(m);
        }
    }

    @Test
    void deleteCarryingAValueIsRefusedAndPutWithoutOneToo() {
        try (Memtable m = new Memtable(1 << 20)) {
            assertThatThrownBy(() -> m.add(new byte[] {1}, 1, EntryKind.DELETE, new byte[] {9}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DELETE");
            assertThatThrownBy(() -> m.add(new byte[] {1}, 1, EntryKind.PUT, null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("value");
            assertThatThrownBy(() -> m.add(null, 1, EntryKind.PUT, new byte[0])).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> m.add(new byte[0], 1, null, new byte[0])).isInstanceOf(NullPointerException.class);
            assertUntouched(m);
        }
    }

    @Test
    void sameKeyAndSequenceTwiceIsRefusedButEitherAloneDiffersFine() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(new byte[] {1}, 5, EntryKind.PUT, new byte[] {1});
            m.add(new byte[] {1}, 6, EntryKind.PUT, new byte[] {2});
            m.add(new byte[] {2}, 5, EntryKind.PUT, new byte[] {3});
            assertThatThrownBy(() -> m.add(new byte[] {1}, 5, EntryKind.DELETE, null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("0x01").hasMessageContaining("sequence 5");
            assertThat(m.entryCount()).isEqualTo(3);
            assertThat(m.get(new byte[] {1}, 5).kind()).isEqualTo(EntryKind.PUT);
        }
    }

    @Test
    void capacityMustBePositive() {
        assertThatThrownBy(() -> new Memtable(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Memtable(-5)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertUntouched(Memtable m) {
        assertThat(m.entryCount()).isZero();
        assertThat(m.memoryBytes()).isZero();
        assertThat(m.arenaReservedBytes()).isZero();
        assertThat(m.maxSequence()).isEqualTo(Memtable.NO_SEQUENCE);
    }

    private static byte[] filled(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 131 + seed);
        }
        return b;
    }
}
