package dev.redoubt.sstable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.KeyOrder;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;

/** One versioned entry, as tests build and compare them. Ordered by {@link KeyOrder#compareEntries}. */
record TestEntry(byte[] key, long sequence, EntryKind kind, byte[] value) {
    static final Comparator<TestEntry> ORDER = (a, b) -> KeyOrder.compareEntries(a.key, a.sequence, b.key, b.sequence);

    static TestEntry put(String key, long sequence, String value) {
        return new TestEntry(key.getBytes(), sequence, EntryKind.PUT, value.getBytes());
    }

    static TestEntry delete(String key, long sequence) {
        return new TestEntry(key.getBytes(), sequence, EntryKind.DELETE, new byte[0]);
    }

    /** A copy of the iterator's current entry. */
    static TestEntry at(EntryIterator it) {
        return new TestEntry(it.key().clone(), it.sequence(), it.kind(), it.value().clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TestEntry e && sequence == e.sequence && kind == e.kind && Arrays.equals(key, e.key)
                && Arrays.equals(value, e.value);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Long.hashCode(sequence);
    }

    @Override
    public String toString() {
        String v = value.length > 16 ? value.length + " bytes" : HexFormat.of().formatHex(value);
        return "(" + (key.length > 24 ? key.length + "-byte key" : HexFormat.of().formatHex(key)) + ", " + sequence
                + ", " + kind + ", " + v + ")";
    }
}
