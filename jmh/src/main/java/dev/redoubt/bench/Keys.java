package dev.redoubt.bench;

/**
 * Keys and values of the Db benchmarks, the same bytes for both engines.
 *
 * <ul>
 *   <li>Keys are {@value #KEY_BYTES} bytes. {@link #sequential}: a big-endian counter (8 zero bytes, then the
 *       index), so index order is key order. {@link #random}: a permuted counter: the first 8 bytes are a
 *       bijective 64-bit mix (the SplitMix64 finalizer) of the index, the last 8 another mix, so indexes
 *       {@code 0..n-1} give {@code n} distinct keys in pseudo-random order; a reader drawing a random index below
 *       {@code n} always asks for a key that exists.</li>
 *   <li>Values are {@value #VALUE_BYTES} (or, where a benchmark takes {@code valueBytes}, that many)
 *       pseudo-random bytes derived from the key index ({@link #value}): every
 *       value differs, nothing repeats inside a block or a WAL record, so LZ4 finds nothing to compress (the
 *       benchmarks print the bytes on disk next to the raw bytes to show it). Deterministic, so a check can
 *       recompute the value it expects.</li>
 * </ul>
 *
 * <p>Both engines copy the key and value arrays they are given (Redoubt into its {@code WriteBatch}, RocksDB
 * through JNI), so a caller reuses one key and one value array per thread and nothing is allocated here.
 */
final class Keys {
    static final int KEY_BYTES = 16;
    static final int VALUE_BYTES = 100;
    /** Raw bytes of one record as the user sees it: key + value. */
    static final int RECORD_BYTES = KEY_BYTES + VALUE_BYTES;

    private static final long KEY_SALT = 0x9E3779B97F4A7C15L;
    private static final long KEY_SALT2 = 0x632BE59BD9B4E019L;
    private static final long VALUE_SALT = 0xD1B54A32D192ED03L;

    private Keys() {
    }

    /** {@code key} := the 16-byte big-endian encoding of {@code i} (fillseq). */
    static byte[] sequential(long i, byte[] key) {
        putLong(key, 0, 0L);
        putLong(key, 8, i);
        return key;
    }

    /** {@code key} := the {@code i}-th key of the random sequence; distinct for distinct {@code i}. */
    static byte[] random(long i, byte[] key) {
        putLong(key, 0, mix(i + KEY_SALT));
        putLong(key, 8, mix(i ^ KEY_SALT2));
        return key;
    }

    /** {@code value} := the {@code value.length} pseudo-random bytes of the record with index {@code i}. */
    static byte[] value(long i, byte[] value) {
        long base = i * 13 + VALUE_SALT;
        int at = 0;
        int w = 0;
        for (; at + 8 <= value.length; w++, at += 8) {
            putLong(value, at, mix(base + w));
        }
        long last = mix(base + w);
        for (; at < value.length; at++, last >>>= 8) {
            value[at] = (byte) last;
        }
        return value;
    }

    static byte[] newKey() {
        return new byte[KEY_BYTES];
    }

    static byte[] newValue() {
        return new byte[VALUE_BYTES];
    }

    /** A value array of {@code bytes} (YCSB-sized records: 1024). */
    static byte[] newValue(int bytes) {
        return new byte[bytes];
    }

    /** SplitMix64's finalizer: a bijection on 64-bit values with good avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int k = 7; k >= 0; k--, v >>>= 8) {
            b[at + k] = (byte) v;
        }
    }
}
