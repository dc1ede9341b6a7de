package dev.redoubt.sstable;

import org.agrona.collections.LongArrayList;

/**
 * Collects the hashes of a table's distinct user keys and builds its filter block at the end, when the key
 * count, and so the filter size, is known. Holds 8 bytes per distinct key meanwhile.
 *
 * <p>Not thread-safe: owned by one writer.
 */
final class BloomFilterBuilder {
    /** A filter is never smaller than this, so that a table of a few keys still gets a useful one. */
    static final int MIN_BITS = 64;

    private final int bitsPerKey;
    private final int probes;
    private final LongArrayList hashes = new LongArrayList();

    BloomFilterBuilder(int bitsPerKey) {
        this.bitsPerKey = bitsPerKey;
        this.probes = probesFor(bitsPerKey);
    }

    /** The false-positive optimum k = bits per key * ln 2, rounded, within [1, MAX_FILTER_PROBES]. */
    static int probesFor(int bitsPerKey) {
        int k = (int) Math.round(bitsPerKey * Math.log(2));
        return Math.max(1, Math.min(SstDescriptor.MAX_FILTER_PROBES, k));
    }

    void addKey(byte[] key) {
        if (bitsPerKey > 0) {
            hashes.addLong(BloomFilter.hash(key));
        }
    }

    /** The filter block contents: the bits, then the probe count; just a 0 when the filter is off. */
    byte[] finish() {
        if (bitsPerKey == 0) {
            return new byte[SstDescriptor.FILTER_PROBES_LENGTH]; // no bits, 0 probes
        }
        long wanted = Math.max(MIN_BITS, (long) hashes.size() * bitsPerKey);
        long bytes = (wanted + 7) / 8;
        if (bytes + SstDescriptor.FILTER_PROBES_LENGTH > SstDescriptor.MAX_META_BLOCK_BYTES) {
            throw new IllegalStateException("a filter for " + hashes.size() + " keys at " + bitsPerKey
                    + " bits per key needs " + bytes + " bytes, above the " + SstDescriptor.MAX_META_BLOCK_BYTES
                    + "-byte limit: write smaller tables");
        }
        byte[] block = new byte[(int) bytes + SstDescriptor.FILTER_PROBES_LENGTH];
        long bitCount = 8 * bytes;
        for (int i = 0; i < hashes.size(); i++) {
            BloomFilter.setHash(block, bitCount, probes, hashes.getLong(i));
        }
        SstDescriptor.putFilterProbes(block, block.length, probes);
        return block;
    }
}
