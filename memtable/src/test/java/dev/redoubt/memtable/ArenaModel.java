package dev.redoubt.memtable;

import java.util.Random;

/**
 * The placement rule of the memtable's arena and the node layout's sizes, restated from their documentation
 * ({@link Arena}, {@link MemtableNode}) for the tests to compute the expected {@link Memtable#memoryBytes()}
 * independently of the implementation.
 */
final class ArenaModel {
    /** The head: 32 header bytes and 12 links, no key, no value. */
    static final int HEAD_BYTES = 32 + 12 * 8;

    private final int chunkBytes;
    private long freeInCurrentChunk = -1;
    long usedBytes;
    long reservedBytes;
    long entries;

    ArenaModel(int chunkBytes) {
        this.chunkBytes = chunkBytes;
    }

    /** 32 header bytes, 8 per level, the key and the value, rounded up to a multiple of 8. */
    static int nodeBytes(int height, int keyBytes, int valueBytes) {
        int raw = 32 + 8 * height + keyBytes + valueBytes;
        return (raw + 7) / 8 * 8;
    }

    /** A height between 1 and 12, one more level with probability 1/4 (as the memtable's own rule). */
    static int drawHeight(Random random) {
        int height = 1;
        while (height < 12 && random.nextInt(4) == 0) {
            height++;
        }
        return height;
    }

    void add(int keyBytes, int valueBytes, int height) {
        if (entries == 0) {
            place(HEAD_BYTES);
        }
        entries++;
        place(nodeBytes(height, keyBytes, valueBytes));
    }

    private void place(int record) {
        if (record > chunkBytes / 4) {
            usedBytes += record;
            reservedBytes += record;
            return;
        }
        if (freeInCurrentChunk < record) {
            if (freeInCurrentChunk >= 0) {
                usedBytes += freeInCurrentChunk;
            }
            reservedBytes += chunkBytes;
            freeInCurrentChunk = chunkBytes;
        }
        freeInCurrentChunk -= record;
        usedBytes += record;
    }

    long memoryBytes() {
        return usedBytes;
    }
}
