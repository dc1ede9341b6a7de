package dev.redoubt.engine;

import dev.redoubt.common.KeyOrder;

/**
 * One live table as the manifest records it.
 *
 * @param number      file number ({@code sst/<number>.sst})
 * @param bytes       file size
 * @param smallestKey smallest user key in the table
 * @param largestKey  largest user key in the table
 * @param minSequence smallest sequence number in the table
 * @param maxSequence largest sequence number in the table
 * @param entries     entries (all versions, tombstones included)
 */
public record FileMeta(long number, long bytes, byte[] smallestKey, byte[] largestKey, long minSequence,
                       long maxSequence, long entries) {

    /** Whether the table's key range intersects {@code [from, to]} (null = unbounded). */
    boolean overlaps(byte[] from, byte[] to) {
        return (to == null || KeyOrder.compareKeys(smallestKey, to) <= 0)
                && (from == null || KeyOrder.compareKeys(largestKey, from) >= 0);
    }

    boolean contains(byte[] key) {
        return KeyOrder.compareKeys(smallestKey, key) <= 0 && KeyOrder.compareKeys(largestKey, key) >= 0;
    }
}
