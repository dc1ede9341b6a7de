package dev.redoubt.sstable;

/**
 * Options of an {@link SstWriter}, one validated object (fluent setters; {@link #validate()} runs when a
 * writer is created). Every default is written here and nowhere else. A reader needs no options: every
 * table describes itself.
 *
 * <p>Not thread-safe while being configured; a writer reads the values once, when it is created.
 */
public final class SstOptions {
    /** Default data block size target: 4 KiB, one page, what a point lookup reads. */
    public static final int DEFAULT_BLOCK_BYTES = 4 * 1024;
    public static final int MIN_BLOCK_BYTES = 64;
    /** Largest block size target: 1 MiB (a block may exceed it by one entry). */
    public static final int MAX_BLOCK_BYTES = 1024 * 1024;
    /** Default restart interval: a lookup scans at most 16 entries after its binary search. */
    public static final int DEFAULT_RESTART_INTERVAL = 16;
    public static final int MAX_RESTART_INTERVAL = 1024;
    /** Default bloom filter size: 10 bits per distinct key, about 1 % false positives. */
    public static final int DEFAULT_BLOOM_BITS_PER_KEY = 10;
    /** 0 writes no filter (every lookup reads a block); 30 bits gives ~1e-6 false positives, enough for anyone. */
    public static final int MAX_BLOOM_BITS_PER_KEY = 30;

    private int blockBytes = DEFAULT_BLOCK_BYTES;
    private int restartInterval = DEFAULT_RESTART_INTERVAL;
    private boolean compression = true;
    private int bloomBitsPerKey = DEFAULT_BLOOM_BITS_PER_KEY;

    public static SstOptions defaults() {
        return new SstOptions();
    }

    /** Target size of a data block's contents before compression; a block is cut once it reaches it. */
    public SstOptions blockBytes(int bytes) {
        this.blockBytes = bytes;
        return this;
    }

    /** Entries between restart points (whole keys) in data and index blocks. */
    public SstOptions restartInterval(int entries) {
        this.restartInterval = entries;
        return this;
    }

    /** LZ4-compress data and index blocks (default on); a block that does not shrink is stored raw. */
    public SstOptions compression(boolean enabled) {
        this.compression = enabled;
        return this;
    }

    /** Bloom filter bits per distinct user key (0 = no filter). */
    public SstOptions bloomBitsPerKey(int bits) {
        this.bloomBitsPerKey = bits;
        return this;
    }

    public int blockBytes() {
        return blockBytes;
    }

    public int restartInterval() {
        return restartInterval;
    }

    public boolean compression() {
        return compression;
    }

    public int bloomBitsPerKey() {
        return bloomBitsPerKey;
    }

    /** Checks every option; the message names the option, its bounds and the value given. */
    public SstOptions validate() {
        if (blockBytes < MIN_BLOCK_BYTES || blockBytes > MAX_BLOCK_BYTES) {
            throw new IllegalArgumentException("blockBytes must be between " + MIN_BLOCK_BYTES + " and "
                    + MAX_BLOCK_BYTES + ", got " + blockBytes);
        }
        if (restartInterval < 1 || restartInterval > MAX_RESTART_INTERVAL) {
            throw new IllegalArgumentException("restartInterval must be between 1 and " + MAX_RESTART_INTERVAL
                    + ", got " + restartInterval);
        }
        if (bloomBitsPerKey < 0 || bloomBitsPerKey > MAX_BLOOM_BITS_PER_KEY) {
            throw new IllegalArgumentException("bloomBitsPerKey must be between 0 and " + MAX_BLOOM_BITS_PER_KEY
                    + ", got " + bloomBitsPerKey);
        }
        return this;
    }

    @Override
    public String toString() {
        return "SstOptions{blockBytes=" + blockBytes + ", restartInterval=" + restartInterval + ", compression="
                + compression + ", bloomBitsPerKey=" + bloomBitsPerKey + '}';
    }
}
