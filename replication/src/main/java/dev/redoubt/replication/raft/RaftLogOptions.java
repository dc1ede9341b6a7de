package dev.redoubt.replication.raft;

import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;

/**
 * How a member snapshots its engine and trims its Raft log (docs/raft-design.md, "Snapshots"). Validated when
 * built; every default is one of the constants below.
 *
 * @param snapshotThresholdEntries a snapshot is taken once this many entries were applied since the last one
 * @param snapshotsRetained        complete snapshots kept; older ones are deleted after each new one
 * @param logSegmentBytes          size of a Raft log segment; only whole closed segments are purged, so the log
 *                                 keeps up to about one segment below the snapshot
 * @param purgeGapEntries          the log is purged only when the snapshot moved at least this far past the
 *                                 last purge
 */
public record RaftLogOptions(long snapshotThresholdEntries, int snapshotsRetained, long logSegmentBytes,
                             int purgeGapEntries) {
    public static final long DEFAULT_SNAPSHOT_THRESHOLD_ENTRIES = 100_000;
    public static final int DEFAULT_SNAPSHOTS_RETAINED = 2;
    /** Ratis' own default. */
    public static final long DEFAULT_LOG_SEGMENT_BYTES = 32L << 20;
    /** Ratis' own default. */
    public static final int DEFAULT_PURGE_GAP_ENTRIES = 1024;
    /** Ratis preallocates this much of a segment (its default), or the whole segment when smaller. */
    static final long PREALLOCATED_BYTES_MAX = 4L << 20;

    public RaftLogOptions {
        if (snapshotThresholdEntries < 1) {
            throw new IllegalArgumentException("snapshotThresholdEntries must be at least 1, not " + snapshotThresholdEntries);
        }
        if (snapshotsRetained < 1) {
            throw new IllegalArgumentException("snapshotsRetained must be at least 1 (a follower may need the latest),"
                    + " not " + snapshotsRetained);
        }
        if (logSegmentBytes < 1024 || logSegmentBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("logSegmentBytes must be within 1 KiB..2 GiB, not " + logSegmentBytes);
        }
        if (purgeGapEntries < 1) {
            throw new IllegalArgumentException("purgeGapEntries must be at least 1, not " + purgeGapEntries);
        }
    }

    public static RaftLogOptions defaults() {
        return new RaftLogOptions(DEFAULT_SNAPSHOT_THRESHOLD_ENTRIES, DEFAULT_SNAPSHOTS_RETAINED,
                DEFAULT_LOG_SEGMENT_BYTES, DEFAULT_PURGE_GAP_ENTRIES);
    }

    public RaftLogOptions withSnapshotThresholdEntries(long entries) {
        return new RaftLogOptions(entries, snapshotsRetained, logSegmentBytes, purgeGapEntries);
    }

    public RaftLogOptions withSnapshotsRetained(int count) {
        return new RaftLogOptions(snapshotThresholdEntries, count, logSegmentBytes, purgeGapEntries);
    }

    public RaftLogOptions withLogSegmentBytes(long bytes) {
        return new RaftLogOptions(snapshotThresholdEntries, snapshotsRetained, bytes, purgeGapEntries);
    }

    public RaftLogOptions withPurgeGapEntries(int entries) {
        return new RaftLogOptions(snapshotThresholdEntries, snapshotsRetained, logSegmentBytes, entries);
    }

    /**
     * Snapshots triggered automatically, the log purged up to the snapshot (so a follower behind it is sent the
     * snapshot), and install-snapshot by file transfer (Ratis ships the snapshot's files itself).
     */
    void applyTo(RaftProperties properties) {
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, snapshotThresholdEntries);
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(properties, snapshotsRetained);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
        RaftServerConfigKeys.Log.setPurgeGap(properties, purgeGapEntries);
        RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf(logSegmentBytes));
        RaftServerConfigKeys.Log.setPreallocatedSize(properties,
                SizeInBytes.valueOf(Math.min(PREALLOCATED_BYTES_MAX, logSegmentBytes)));
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(properties, true);
    }
}
