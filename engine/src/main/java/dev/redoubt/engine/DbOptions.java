package dev.redoubt.engine;

import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.WalOptions;

/**
 * Options of a {@link Db}: one object, fluent setters, validated once by {@link Db#open}. Every default is
 * here and nowhere else.
 */
public final class DbOptions {
    private Durability durability = Durability.SYNC;
    private int walSegmentBytes = WalOptions.DEFAULT_SEGMENT_BYTES;
    private int walCompressAboveBytes = WalOptions.COMPRESSION_OFF;
    private long memtableBytes = 64L * 1024 * 1024;
    private int maxImmutableMemtables = 2;
    private long blockCacheBytes = 64L * 1024 * 1024;
    private boolean compression = true;
    private RecoveryMode recoveryMode = RecoveryMode.TOLERATE_CORRUPTED_TAIL;
    private boolean readOnly;
    private int blockBytes = 4096;
    private int bloomBitsPerKey = 10;
    private long targetFileBytes = 32L * 1024 * 1024;
    private int level0CompactionTrigger = 4;
    private long level1MaxBytes = 256L * 1024 * 1024;
    private int levelSizeRatio = 10;
    private int maxLevels = 7;

    public static DbOptions defaults() {
        return new DbOptions();
    }

    /** An independent copy (the setters change the object they are called on). */
    public DbOptions copy() {
        DbOptions c = new DbOptions();
        c.durability = durability;
        c.walSegmentBytes = walSegmentBytes;
        c.walCompressAboveBytes = walCompressAboveBytes;
        c.memtableBytes = memtableBytes;
        c.maxImmutableMemtables = maxImmutableMemtables;
        c.blockCacheBytes = blockCacheBytes;
        c.compression = compression;
        c.recoveryMode = recoveryMode;
        c.readOnly = readOnly;
        c.blockBytes = blockBytes;
        c.bloomBitsPerKey = bloomBitsPerKey;
        c.targetFileBytes = targetFileBytes;
        c.level0CompactionTrigger = level0CompactionTrigger;
        c.level1MaxBytes = level1MaxBytes;
        c.levelSizeRatio = levelSizeRatio;
        c.maxLevels = maxLevels;
        return c;
    }

    /** Durability of writes without {@link WriteOptions}: {@code SYNC} (default) survives power loss. */
    public DbOptions durability(Durability d) {
        this.durability = d;
        return this;
    }

    /**
     * LZ4-compresses each WAL record whose batch is longer than {@code bytes} ({@link WalOptions#COMPRESSION_OFF},
     * the default: never). A record is stored compressed only when that makes it smaller; recovery, replication
     * and {@code redoubt wal dump} inflate it, checked against its raw length. Worth it for compressible values
     * (text, JSON) where the disk or the link between nodes is the limit; it costs CPU on every write.
     */
    public DbOptions walCompressAboveBytes(int bytes) {
        this.walCompressAboveBytes = bytes;
        return this;
    }

    public DbOptions walSegmentBytes(int bytes) {
        this.walSegmentBytes = bytes;
        return this;
    }

    /** Memtable size before it is switched and flushed (default 64 MiB). */
    public DbOptions memtableBytes(long bytes) {
        this.memtableBytes = bytes;
        return this;
    }

    /** Immutable memtables waiting for flush before writers stall (default 2). */
    public DbOptions maxImmutableMemtables(int count) {
        this.maxImmutableMemtables = count;
        return this;
    }

    /** Decoded SSTable blocks kept in memory (default 64 MiB; 0 = none). */
    public DbOptions blockCacheBytes(long bytes) {
        this.blockCacheBytes = bytes;
        return this;
    }

    /** LZ4 compression of SSTable blocks (default on). */
    public DbOptions compression(boolean enabled) {
        this.compression = enabled;
        return this;
    }

    public DbOptions recoveryMode(RecoveryMode mode) {
        this.recoveryMode = mode;
        return this;
    }

    /** Open without writing anything: no recovery changes, no flush, no compaction; writes are refused. */
    public DbOptions readOnly(boolean readOnly) {
        this.readOnly = readOnly;
        return this;
    }

    public DbOptions blockBytes(int bytes) {
        this.blockBytes = bytes;
        return this;
    }

    public DbOptions bloomBitsPerKey(int bits) {
        this.bloomBitsPerKey = bits;
        return this;
    }

    /** Size at which a compaction output table is cut (default 32 MiB). */
    public DbOptions targetFileBytes(long bytes) {
        this.targetFileBytes = bytes;
        return this;
    }

    /** Level-0 tables that trigger a compaction into level 1 (default 4). */
    public DbOptions level0CompactionTrigger(int files) {
        this.level0CompactionTrigger = files;
        return this;
    }

    /** Target size of level 1 (default 256 MiB); each deeper level is {@link #levelSizeRatio} times larger. */
    public DbOptions level1MaxBytes(long bytes) {
        this.level1MaxBytes = bytes;
        return this;
    }

    public DbOptions levelSizeRatio(int ratio) {
        this.levelSizeRatio = ratio;
        return this;
    }

    public Durability durability() {
        return durability;
    }

    public int walSegmentBytes() {
        return walSegmentBytes;
    }

    public int walCompressAboveBytes() {
        return walCompressAboveBytes;
    }

    public long memtableBytes() {
        return memtableBytes;
    }

    public int maxImmutableMemtables() {
        return maxImmutableMemtables;
    }

    public long blockCacheBytes() {
        return blockCacheBytes;
    }

    public boolean compression() {
        return compression;
    }

    public RecoveryMode recoveryMode() {
        return recoveryMode;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public int blockBytes() {
        return blockBytes;
    }

    public int bloomBitsPerKey() {
        return bloomBitsPerKey;
    }

    public long targetFileBytes() {
        return targetFileBytes;
    }

    public int level0CompactionTrigger() {
        return level0CompactionTrigger;
    }

    public long level1MaxBytes() {
        return level1MaxBytes;
    }

    public int levelSizeRatio() {
        return levelSizeRatio;
    }

    public int maxLevels() {
        return maxLevels;
    }

    WalOptions walOptions() {
        return WalOptions.defaults().segmentBytes(walSegmentBytes).recoveryMode(recoveryMode)
                .compressAboveBytes(walCompressAboveBytes);
    }

    DbOptions validate() {
        if (durability == null || recoveryMode == null) {
            throw new IllegalArgumentException("durability and recoveryMode must not be null");
        }
        walOptions().validate();
        require(memtableBytes >= 64 * 1024 && memtableBytes <= (1L << 34), "memtableBytes must be between 64 KiB and 16 GiB");
        require(maxImmutableMemtables >= 1 && maxImmutableMemtables <= 64, "maxImmutableMemtables must be 1..64");
        require(blockCacheBytes >= 0, "blockCacheBytes must be >= 0");
        require(blockBytes >= 256 && blockBytes <= 1024 * 1024, "blockBytes must be between 256 B and 1 MiB");
        require(bloomBitsPerKey >= 0 && bloomBitsPerKey <= 64, "bloomBitsPerKey must be 0..64");
        require(targetFileBytes >= 64 * 1024, "targetFileBytes must be >= 64 KiB");
        require(level0CompactionTrigger >= 2 && level0CompactionTrigger <= 64, "level0CompactionTrigger must be 2..64");
        require(level1MaxBytes >= 64 * 1024, "level1MaxBytes must be >= 64 KiB");
        require(levelSizeRatio >= 2 && levelSizeRatio <= 100, "levelSizeRatio must be 2..100");
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
