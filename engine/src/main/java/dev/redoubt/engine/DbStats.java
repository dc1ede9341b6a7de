package dev.redoubt.engine;

import java.util.List;

/**
 * A snapshot of a {@link Db}'s figures (also published as the JMX MBean {@code dev.redoubt:type=Db}).
 *
 * @param levelFiles         tables per level
 * @param levelBytes         bytes per level
 * @param memtableBytes      bytes held by the active and immutable memtables
 * @param immutableMemtables memtables waiting for flush
 * @param walBytes           bytes of retained WAL segments
 * @param writeStalls        times writers stalled because flushing fell behind
 * @param writeStallNanos    total time writers stalled
 * @param blockCacheHits     block cache hits
 * @param blockCacheMisses   block cache misses
 * @param flushes            memtables flushed
 * @param compactions        compactions run
 * @param compactionBytesIn  bytes read by compactions
 * @param compactionBytesOut bytes written by compactions
 * @param lastSequence       highest visible sequence number
 * @param writtenLsn         WAL bytes written below this LSN
 * @param durableLsn         WAL bytes fsynced below this LSN
 * @param checkpointLsn      every change below it is in tables
 * @param failure            why the database refuses writes until it is reopened (a failed WAL write or fsync,
 *                           a failed background flush or compaction, a full disk) and what to do; null while
 *                           it accepts writes
 */
public record DbStats(List<Integer> levelFiles, List<Long> levelBytes, long memtableBytes, int immutableMemtables,
                      long walBytes, long writeStalls, long writeStallNanos, long blockCacheHits,
                      long blockCacheMisses, long flushes, long compactions, long compactionBytesIn,
                      long compactionBytesOut, long lastSequence, long writtenLsn, long durableLsn,
                      long checkpointLsn, String failure) {

    public double blockCacheHitRate() {
        long total = blockCacheHits + blockCacheMisses;
        return total == 0 ? 0 : (double) blockCacheHits / total;
    }
}
