package dev.redoubt.sstable;

import dev.redoubt.common.EntryKind;
import java.util.Arrays;
import org.agrona.collections.IntArrayList;

/**
 * Builds the contents of one data or index block (grammar in {@link SstDescriptor}): each key is stored as
 * the length it shares with the previous key plus the rest, except every {@code restartInterval}-th key, a
 * restart point, which is stored whole so that a reader can binary-search the restarts.
 *
 * <p>The caller adds entries in strictly increasing internal order (the {@link SstWriter} checks it). Not
 * thread-safe: owned by one writer.
 */
final class BlockBuilder {
    private final int restartInterval;
    private final ByteSink out;
    private final IntArrayList restarts = new IntArrayList();
    private byte[] lastKey = new byte[64];
    private int lastKeyLength;
    /** Entries since the last restart point. */
    private int sinceRestart;
    private int entries;
    private boolean finished;

    BlockBuilder(int restartInterval, int expectedBytes) {
        this.restartInterval = restartInterval;
        this.out = new ByteSink(expectedBytes + expectedBytes / 4);
    }

    void add(byte[] key, long sequence, EntryKind kind, byte[] value, int valueFrom, int valueLength) {
        addHeaderAndKey(key, sequence, kind, valueLength);
        out.putBytes(value, valueFrom, valueLength);
    }

    /** As above, the value read from {@code value} (the memtable's arena, for a flush: no copy on the heap). */
    void add(byte[] key, long sequence, EntryKind kind, org.agrona.DirectBuffer value, int valueFrom, int valueLength) {
        addHeaderAndKey(key, sequence, kind, valueLength);
        out.putBytes(value, valueFrom, valueLength);
    }

    /** Everything of an entry but its value bytes, which the caller appends next. */
    private void addHeaderAndKey(byte[] key, long sequence, EntryKind kind, int valueLength) {
        assert !finished : "add after finish without reset";
        int shared = 0;
        if (sinceRestart < restartInterval) {
            int max = Math.min(lastKeyLength, key.length);
            int mismatch = Arrays.mismatch(lastKey, 0, max, key, 0, max);
            shared = mismatch < 0 ? max : mismatch;
        } else {
            sinceRestart = 0;
        }
        if (sinceRestart == 0) {
            restarts.addInt(out.length());
            shared = 0;
        }
        int unshared = key.length - shared;
        out.putVarint32(shared);
        out.putVarint32(unshared);
        out.putVarint32(valueLength);
        out.putByte(kind.code());
        out.putVarint64(sequence);
        out.putBytes(key, shared, unshared);
        rememberKey(key);
        sinceRestart++;
        entries++;
    }

    /** The contents' size if the block were finished now (entries plus the restart array). */
    int estimatedBytes() {
        return out.length() + (restarts.size() + 1) * SstDescriptor.RESTART_LENGTH;
    }

    boolean isEmpty() {
        return entries == 0;
    }

    int entries() {
        return entries;
    }

    /** Appends the restart array; the contents are then {@code [0, length)} of the returned sink's array. */
    ByteSink finish() {
        assert entries > 0 : "a block holds at least one entry";
        for (int i = 0; i < restarts.size(); i++) {
            out.putIntLe(restarts.getInt(i));
        }
        out.putIntLe(restarts.size());
        finished = true;
        return out;
    }

    void reset() {
        out.clear();
        restarts.clear();
        lastKeyLength = 0;
        sinceRestart = 0;
        entries = 0;
        finished = false;
    }

    private void rememberKey(byte[] key) {
        if (lastKey.length < key.length) {
            lastKey = Arrays.copyOf(lastKey, Math.max(key.length, 2 * lastKey.length));
        }
        System.arraycopy(key, 0, lastKey, 0, key.length);
        lastKeyLength = key.length;
    }
}
