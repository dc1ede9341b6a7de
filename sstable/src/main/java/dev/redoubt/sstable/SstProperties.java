package dev.redoubt.sstable;

import java.util.Arrays;

/**
 * What a table holds, as recorded in its properties block (and, for the sizes of its parts, its footer).
 * Returned by {@link SstWriter#finish()} and {@link SstReader#properties()}; the engine keeps the key and
 * sequence ranges in its manifest. Immutable (the key arrays are copied in and out).
 *
 * @param entryCount      entries (versions), at least 1
 * @param deletionCount   DELETE entries among them
 * @param minSequence     smallest sequence of any entry
 * @param maxSequence     largest sequence of any entry
 * @param smallestKey     user key of the first entry
 * @param largestKey      user key of the last entry
 * @param dataBlockCount  data blocks
 * @param dataBytes       bytes of the data blocks on disk (with trailers): the file offset of the index
 * @param rawKeyBytes     sum of the user keys' lengths, before prefix compression
 * @param rawValueBytes   sum of the values' lengths, before compression
 * @param indexBytes      bytes of the index block on disk (with trailer)
 * @param filterBytes     bytes of the filter block on disk (with trailer)
 * @param fileBytes       size of the whole file
 */
public record SstProperties(long entryCount, long deletionCount, long minSequence, long maxSequence,
                            byte[] smallestKey, byte[] largestKey, long dataBlockCount, long dataBytes,
                            long rawKeyBytes, long rawValueBytes, long indexBytes, long filterBytes,
                            long fileBytes) {

    public SstProperties {
        smallestKey = smallestKey.clone();
        largestKey = largestKey.clone();
    }

    @Override
    public byte[] smallestKey() {
        return smallestKey.clone();
    }

    @Override
    public byte[] largestKey() {
        return largestKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SstProperties p
                && entryCount == p.entryCount && deletionCount == p.deletionCount
                && minSequence == p.minSequence && maxSequence == p.maxSequence
                && Arrays.equals(smallestKey, p.smallestKey) && Arrays.equals(largestKey, p.largestKey)
                && dataBlockCount == p.dataBlockCount && dataBytes == p.dataBytes
                && rawKeyBytes == p.rawKeyBytes && rawValueBytes == p.rawValueBytes
                && indexBytes == p.indexBytes && filterBytes == p.filterBytes && fileBytes == p.fileBytes;
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(entryCount);
        h = 31 * h + Long.hashCode(maxSequence);
        h = 31 * h + Arrays.hashCode(smallestKey);
        h = 31 * h + Arrays.hashCode(largestKey);
        return 31 * h + Long.hashCode(fileBytes);
    }

    @Override
    public String toString() {
        return "SstProperties{entries=" + entryCount + ", deletions=" + deletionCount + ", sequences=["
                + minSequence + ", " + maxSequence + "], keys=[" + Keys.describe(smallestKey) + ", "
                + Keys.describe(largestKey) + "], dataBlocks=" + dataBlockCount + ", dataBytes=" + dataBytes
                + ", rawKeyBytes=" + rawKeyBytes + ", rawValueBytes=" + rawValueBytes + ", indexBytes="
                + indexBytes + ", filterBytes=" + filterBytes + ", fileBytes=" + fileBytes + '}';
    }
}
