package dev.redoubt.sstable;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import java.util.Arrays;

/**
 * An {@link EntryIterator} over one table: a position in the index and a {@link BlockCursor} in the current
 * data block, which comes from the block cache. {@link #key()} and {@link #value()} copy out of the block
 * once per position, on first call.
 *
 * <p>After a corruption error the iterator is invalid; seek again (other blocks may still read) or close it.
 *
 * <p>Not thread-safe: one thread uses an iterator at a time (many iterators may share a reader).
 */
final class TableIterator implements EntryIterator {
    private final SstReader reader;
    private final IndexBlock index;
    private final BlockCursor cursor = new BlockCursor();
    /** Index of the block the cursor is in; {@code index.blockCount()} when past the end. */
    private int block = -1;
    private boolean valid;
    private byte[] key;
    private byte[] value;

    TableIterator(SstReader reader) {
        this.reader = reader;
        this.index = reader.index();
    }

    @Override
    public void seekToFirst() {
        try {
            enterBlock(0);
            if (valid) {
                cursor.seekToFirst();
                skipExhaustedBlocks();
            }
        } catch (RuntimeException e) {
            valid = false;
            throw e;
        }
    }

    @Override
    public void seek(byte[] target) {
        try {
            // The newest version sorts first, so (target, MAX) precedes every version of target.
            enterBlock(index.find(target, Long.MAX_VALUE));
            if (valid) {
                cursor.seek(target, Long.MAX_VALUE);
                skipExhaustedBlocks();
            }
        } catch (RuntimeException e) {
            valid = false;
            throw e;
        }
    }

    @Override
    public boolean valid() {
        return valid;
    }

    @Override
    public void next() {
        if (!valid) {
            throw new IllegalStateException("next() on an iterator that is not positioned at an entry");
        }
        try {
            cursor.next();
            skipExhaustedBlocks();
        } catch (RuntimeException e) {
            valid = false;
            throw e;
        }
    }

    @Override
    public byte[] key() {
        checkValid();
        if (key == null) {
            key = Arrays.copyOf(cursor.keyBuffer(), cursor.keyLength());
        }
        return key;
    }

    @Override
    public long sequence() {
        checkValid();
        return cursor.sequence();
    }

    @Override
    public EntryKind kind() {
        checkValid();
        return cursor.kind();
    }

    @Override
    public byte[] value() {
        checkValid();
        if (value == null) {
            value = Arrays.copyOfRange(cursor.blockBytes(), cursor.valueOffset(),
                    cursor.valueOffset() + cursor.valueLength());
        }
        return value;
    }

    @Override
    public int valueLength() {
        checkValid();
        return cursor.valueLength();
    }

    @Override
    public void copyValue(byte[] dst, int at) {
        checkValid();
        System.arraycopy(cursor.blockBytes(), cursor.valueOffset(), dst, at, cursor.valueLength());
    }

    @Override
    public void close() {
        valid = false;
        block = index.blockCount();
    }

    /** Points the cursor at block {@code b}, unpositioned; invalid when {@code b} is past the last block. */
    private void enterBlock(int b) {
        key = null;
        value = null;
        block = b;
        // Invalid until the block is loaded: if reading it fails, the iterator is not left on the old block.
        valid = false;
        if (b < index.blockCount()) {
            cursor.reset(reader.block(b));
            valid = true;
        }
    }

    /** Moves to the first entry of the next block while the current one is used up. */
    private void skipExhaustedBlocks() {
        key = null;
        value = null;
        while (!cursor.valid()) {
            enterBlock(block + 1);
            if (!valid) {
                return;
            }
            cursor.seekToFirst();
        }
    }

    private void checkValid() {
        if (!valid) {
            throw new IllegalStateException("the iterator is not positioned at an entry");
        }
    }
}
