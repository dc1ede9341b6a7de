package dev.redoubt.common;

import java.util.Arrays;

/**
 * The one order of the engine. User keys compare as unsigned bytes (lexicographic, shorter first on a common
 * prefix). Versions of one key are ordered newest first: by descending sequence number.
 *
 * <p>A sequence number identifies one operation: the operation at index {@code i} of the write batch logged at
 * WAL LSN {@code L} has sequence {@code L + i}. Every operation takes at least one byte of its batch's
 * payload, so sequences are unique and grow with the log, without a counter of their own.
 */
public final class KeyOrder {
    private KeyOrder() {
    }

    public static int compareKeys(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /** Internal order: key ascending, then sequence descending (newest version first). */
    public static int compareEntries(byte[] keyA, long sequenceA, byte[] keyB, long sequenceB) {
        int c = Arrays.compareUnsigned(keyA, keyB);
        return c != 0 ? c : Long.compare(sequenceB, sequenceA);
    }
}
