package dev.redoubt.sstable;

import java.nio.file.Path;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The reader's view of a table's bloom filter (layout and probe sequence in {@link SstDescriptor}): says
 * "absent" only for keys that were never added, and "maybe" for about 1 % of the others at 10 bits per key.
 * Probing hashes the key once (XXH64) and derives every probe from the two halves (Kirsch and Mitzenmacher,
 * "Less hashing, same performance"), so a lookup costs one hash and k bit tests, with no allocation.
 *
 * <p>Immutable: shared by every thread reading the table.
 */
final class BloomFilter {
    /** The filter of a table written without one: every key may be present. */
    static final BloomFilter NONE = new BloomFilter(new byte[0], 0, 0);

    /** The pure-Java XXH64: JNI costs more than hashing a short key. */
    private static final XXHash64 XXH64 = XXHashFactory.fastestJavaInstance().hash64();

    private final byte[] bits;
    private final long bitCount;
    private final int probes;

    private BloomFilter(byte[] bits, long bitCount, int probes) {
        this.bits = bits;
        this.bitCount = bitCount;
        this.probes = probes;
    }

    /**
     * Decodes the filter block contents {@code b[0, length)} (checksum already verified) of the filter block at
     * file offset {@code at}; the bits are used in place.
     */
    static BloomFilter decode(byte[] b, int length, Path file, long at) {
        if (length < SstDescriptor.FILTER_PROBES_LENGTH) {
            throw new SstCorruptionException(file, at, "filter block is empty (it ends with its probe count)");
        }
        int k = SstDescriptor.filterProbes(b, length);
        int bytes = SstDescriptor.filterBitBytes(length);
        if (k == 0 && bytes == 0) {
            return NONE;
        }
        if (k < 1 || k > SstDescriptor.MAX_FILTER_PROBES || bytes == 0) {
            throw new SstCorruptionException(file, at + bytes, "filter probe count " + k + " with "
                    + bytes + " bytes of bits: want 1.." + SstDescriptor.MAX_FILTER_PROBES + " probes and some bits,"
                    + " or 0 probes and no bits");
        }
        return new BloomFilter(b, 8L * bytes, k);
    }

    static long hash(byte[] key) {
        return XXH64.hash(key, 0, key.length, SstDescriptor.FILTER_HASH_SEED);
    }

    boolean mayContain(byte[] key) {
        return mayContain(key, 0, key.length);
    }

    /** Whether the key {@code key[from, from + length)} may have been added. */
    boolean mayContain(byte[] key, int from, int length) {
        return bitCount == 0
                || mayContainHash(bits, bitCount, probes, XXH64.hash(key, from, length, SstDescriptor.FILTER_HASH_SEED));
    }

    /** Probe sequence shared with {@link BloomFilterBuilder}: bit (h1 + i * h2) mod m for i in [0, k). */
    static boolean mayContainHash(byte[] bits, long bitCount, int probes, long hash) {
        long h1 = hash & 0xFFFFFFFFL;
        long h2 = hash >>> 32;
        for (int i = 0; i < probes; i++) {
            long bit = (h1 + i * h2) % bitCount;
            if ((bits[(int) (bit >>> 3)] & (1 << (bit & 7))) == 0) {
                return false;
            }
        }
        return true;
    }

    static void setHash(byte[] bits, long bitCount, int probes, long hash) {
        long h1 = hash & 0xFFFFFFFFL;
        long h2 = hash >>> 32;
        for (int i = 0; i < probes; i++) {
            long bit = (h1 + i * h2) % bitCount;
            bits[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
        }
    }

    /** The filter's bits, or 0 when there is none. */
    long bitCount() {
        return bitCount;
    }

    int probes() {
        return probes;
    }
}
