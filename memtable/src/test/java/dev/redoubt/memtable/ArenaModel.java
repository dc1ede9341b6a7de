package dev.redoubt.memtable;

/**
 * The placement rule of the memtable's arena, restated from its documentation for the tests to compute the
 * expected {@link Memtable#memoryBytes()} independently of the implementation.
 */
final class ArenaModel {
    private final int chunkBytes;
    private long freeInCurrentChunk = -1;
    long usedBytes;
    long reservedBytes;
    long entries;

    ArenaModel(int chunkBytes) {
        this.chunkBytes = chunkBytes;
    }

    void add(int keyBytes, int valueBytes) {
        int record = keyBytes + valueBytes;
        entries++;
        if (record == 0) {
            return;
        }
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
        return usedBytes + entries * Memtable.INDEX_BYTES_PER_ENTRY;
    }
}
