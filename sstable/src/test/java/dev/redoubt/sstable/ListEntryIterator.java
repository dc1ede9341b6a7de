package dev.redoubt.sstable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import java.util.Arrays;
import java.util.List;

/** An {@link EntryIterator} over a sorted list, standing in for a memtable in merge tests. */
final class ListEntryIterator implements EntryIterator {
    private final List<TestEntry> entries;
    private int position = -1;
    boolean closed;

    ListEntryIterator(List<TestEntry> sortedEntries) {
        this.entries = sortedEntries;
    }

    @Override
    public void seekToFirst() {
        position = 0;
    }

    @Override
    public void seek(byte[] key) {
        int lo = 0;
        int hi = entries.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Arrays.compareUnsigned(entries.get(mid).key(), key) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        position = lo;
    }

    @Override
    public boolean valid() {
        return position >= 0 && position < entries.size();
    }

    @Override
    public void next() {
        position++;
    }

    @Override
    public byte[] key() {
        return entries.get(position).key();
    }

    @Override
    public long sequence() {
        return entries.get(position).sequence();
    }

    @Override
    public EntryKind kind() {
        return entries.get(position).kind();
    }

    @Override
    public byte[] value() {
        return entries.get(position).value();
    }

    @Override
    public void close() {
        closed = true;
    }
}
