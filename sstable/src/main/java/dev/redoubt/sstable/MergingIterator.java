package dev.redoubt.sstable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.KeyOrder;
import java.util.List;

/**
 * Merges k {@link EntryIterator}s, each in internal order, into one in internal order: a binary min-heap of
 * the sources' current entries, so each step costs O(log k) comparisons. Used by compaction and by the engine
 * to merge memtables and tables.
 *
 * <p>Equal entries (same key and sequence) cannot come from two sources in a correct engine, since a sequence
 * names one operation. If they do anyway, the merge stays strictly increasing: the source listed first wins
 * and the others' duplicates are skipped, so the output can always be written to an {@link SstWriter}.
 * Pass sources newest first.
 *
 * <p>A new merging iterator is not positioned: call {@link #seekToFirst()} or {@link #seek}. It owns its
 * sources: {@link #close()} closes them all. If a source throws (a corrupt block), the merge's position is
 * undefined until the next seek. Not thread-safe, like every iterator.
 */
public final class MergingIterator implements EntryIterator {
    private final EntryIterator[] sources;
    /** Current key and sequence of each valid source, read once per move of that source. */
    private final byte[][] keys;
    private final long[] sequences;
    /** Min-heap of source indexes by (key, sequence, source index); {@code heap[0]} is the current entry. */
    private final int[] heap;
    private int size;

    public MergingIterator(List<? extends EntryIterator> sources) {
        this.sources = sources.toArray(new EntryIterator[0]);
        this.keys = new byte[this.sources.length][];
        this.sequences = new long[this.sources.length];
        this.heap = new int[this.sources.length];
    }

    public static MergingIterator of(EntryIterator... sources) {
        return new MergingIterator(List.of(sources));
    }

    @Override
    public void seekToFirst() {
        for (EntryIterator s : sources) {
            s.seekToFirst();
        }
        rebuild();
    }

    @Override
    public void seek(byte[] key) {
        for (EntryIterator s : sources) {
            s.seek(key);
        }
        rebuild();
    }

    @Override
    public boolean valid() {
        return size > 0;
    }

    @Override
    public void next() {
        checkValid();
        advance(0);
        dropDuplicatesOfTop();
    }

    @Override
    public byte[] key() {
        checkValid();
        return sources[heap[0]].key();
    }

    @Override
    public long sequence() {
        checkValid();
        return sequences[heap[0]];
    }

    @Override
    public EntryKind kind() {
        checkValid();
        return sources[heap[0]].kind();
    }

    @Override
    public byte[] value() {
        checkValid();
        return sources[heap[0]].value();
    }

    @Override
    public int valueLength() {
        checkValid();
        return sources[heap[0]].valueLength();
    }

    @Override
    public void copyValue(byte[] dst, int at) {
        checkValid();
        sources[heap[0]].copyValue(dst, at);
    }

    /** Closes every source; the first failure is thrown after all were tried, later ones suppressed. */
    @Override
    public void close() {
        size = 0;
        RuntimeException failure = null;
        for (EntryIterator s : sources) {
            try {
                s.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void rebuild() {
        size = 0;
        for (int s = 0; s < sources.length; s++) {
            if (sources[s].valid()) {
                load(s);
                heap[size] = s;
                siftUp(size);
                size++;
            }
        }
        dropDuplicatesOfTop();
    }

    /**
     * Skips entries equal to the top's in sources listed after it. Equal entries sort right after the top,
     * and a heap entry lies between its parent and its children, so if any duplicate exists, one is a child
     * of the root.
     */
    private void dropDuplicatesOfTop() {
        while (size > 1) {
            int child = sameEntry(1) ? 1 : size > 2 && sameEntry(2) ? 2 : -1;
            if (child < 0) {
                return;
            }
            advance(child);
        }
    }

    private boolean sameEntry(int position) {
        int a = heap[0];
        int b = heap[position];
        return sequences[a] == sequences[b] && KeyOrder.compareKeys(keys[a], keys[b]) == 0;
    }

    /** Moves the source at heap {@code position} to its next entry and restores the heap. */
    private void advance(int position) {
        int s = heap[position];
        sources[s].next();
        if (sources[s].valid()) {
            load(s);
            siftDown(position);
        } else {
            keys[s] = null;
            size--;
            if (position < size) {
                heap[position] = heap[size];
                siftDown(position);
                siftUp(position);
            }
        }
    }

    private void load(int s) {
        keys[s] = sources[s].key();
        sequences[s] = sources[s].sequence();
    }

    private void siftUp(int position) {
        int p = position;
        while (p > 0) {
            int parent = (p - 1) >>> 1;
            if (less(heap[parent], heap[p])) {
                return;
            }
            swap(parent, p);
            p = parent;
        }
    }

    private void siftDown(int position) {
        int p = position;
        while (true) {
            int smallest = p;
            int left = 2 * p + 1;
            int right = left + 1;
            if (left < size && less(heap[left], heap[smallest])) {
                smallest = left;
            }
            if (right < size && less(heap[right], heap[smallest])) {
                smallest = right;
            }
            if (smallest == p) {
                return;
            }
            swap(p, smallest);
            p = smallest;
        }
    }

    /** Internal order, then source order: a total order, so ties resolve the same way every time. */
    private boolean less(int a, int b) {
        int c = KeyOrder.compareEntries(keys[a], sequences[a], keys[b], sequences[b]);
        return c != 0 ? c < 0 : a < b;
    }

    private void swap(int i, int j) {
        int t = heap[i];
        heap[i] = heap[j];
        heap[j] = t;
    }

    private void checkValid() {
        if (size == 0) {
            throw new IllegalStateException("the merging iterator is not positioned at an entry");
        }
    }
}
