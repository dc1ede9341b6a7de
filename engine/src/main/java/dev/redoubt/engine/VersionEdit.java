package dev.redoubt.engine;

import dev.redoubt.common.ByteReader;
import dev.redoubt.common.ByteWriter;
import dev.redoubt.common.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * One change to the set of live tables, as one manifest record (framed and checksummed by
 * {@link dev.redoubt.wal.RecordFile}).
 *
 * <pre>
 * edit    := field*
 * field   := 1 checkpointLsn:u64        every change with a sequence below it is in tables
 *          | 2 nextFileNumber:u64       file numbers at or above it were never handed out
 *          | 3 epoch:u64                replication epoch
 *          | 4 level:u8 file            a table added at that level
 *          | 5 level:u8 number:u64      a table removed from that level
 *          | 6 walDurableLsn:u64        every WAL byte below it was fsynced when the Db last closed cleanly
 * file    := number:u64 bytes:u64 smallest:key largest:key minSequence:u64 maxSequence:u64 entries:u64
 * key     := length:varint32 bytes      (length bounded by Limits.MAX_KEY_BYTES)
 * </pre>
 * Integers are little-endian. An unknown tag is corruption (a manifest from a newer version is refused).
 */
final class VersionEdit {
    static final int TAG_CHECKPOINT_LSN = 1;
    static final int TAG_NEXT_FILE_NUMBER = 2;
    static final int TAG_EPOCH = 3;
    static final int TAG_ADD_FILE = 4;
    static final int TAG_REMOVE_FILE = 5;
    static final int TAG_WAL_DURABLE_LSN = 6;

    /** A table added at a level. */
    record Added(int level, FileMeta file) {
    }

    /** A table removed from a level. */
    record Removed(int level, long number) {
    }

    Long checkpointLsn;
    Long nextFileNumber;
    Long epoch;
    /**
     * Logged at a clean close: the WAL's durable end. Recovery then knows that the log's last records, which no
     * later record's durable LSN can vouch for, were acknowledged too, and refuses damage to them.
     */
    Long walDurableLsn;
    final List<Added> added = new ArrayList<>();
    final List<Removed> removed = new ArrayList<>();

    VersionEdit addFile(int level, FileMeta file) {
        added.add(new Added(level, file));
        return this;
    }

    VersionEdit removeFile(int level, long number) {
        removed.add(new Removed(level, number));
        return this;
    }

    byte[] encode() {
        ByteWriter w = new ByteWriter(64);
        if (checkpointLsn != null) {
            w.u8(TAG_CHECKPOINT_LSN).u64(checkpointLsn);
        }
        if (nextFileNumber != null) {
            w.u8(TAG_NEXT_FILE_NUMBER).u64(nextFileNumber);
        }
        if (epoch != null) {
            w.u8(TAG_EPOCH).u64(epoch);
        }
        if (walDurableLsn != null) {
            w.u8(TAG_WAL_DURABLE_LSN).u64(walDurableLsn);
        }
        for (Removed r : removed) {
            w.u8(TAG_REMOVE_FILE).u8(r.level).u64(r.number);
        }
        for (Added a : added) {
            FileMeta f = a.file;
            w.u8(TAG_ADD_FILE).u8(a.level).u64(f.number()).u64(f.bytes()).lengthPrefixed(f.smallestKey())
                    .lengthPrefixed(f.largestKey()).u64(f.minSequence()).u64(f.maxSequence()).u64(f.entries());
        }
        return w.toByteArray();
    }

    static VersionEdit decode(byte[] bytes, String what, int maxLevels) {
        ByteReader r = new ByteReader(bytes, what);
        VersionEdit edit = new VersionEdit();
        while (r.hasRemaining()) {
            int tag = r.u8();
            switch (tag) {
                case TAG_CHECKPOINT_LSN -> edit.checkpointLsn = nonNegative(r, r.u64());
                case TAG_NEXT_FILE_NUMBER -> edit.nextFileNumber = nonNegative(r, r.u64());
                case TAG_EPOCH -> edit.epoch = nonNegative(r, r.u64());
                case TAG_ADD_FILE -> {
                    int level = level(r, maxLevels);
                    FileMeta f = new FileMeta(nonNegative(r, r.u64()), nonNegative(r, r.u64()),
                            r.lengthPrefixed(Limits.MAX_KEY_BYTES), r.lengthPrefixed(Limits.MAX_KEY_BYTES),
                            r.u64(), r.u64(), nonNegative(r, r.u64()));
                    edit.addFile(level, f);
                }
                case TAG_REMOVE_FILE -> edit.removeFile(level(r, maxLevels), nonNegative(r, r.u64()));
                case TAG_WAL_DURABLE_LSN -> edit.walDurableLsn = nonNegative(r, r.u64());
                default -> throw r.corrupt("unknown manifest field tag " + tag);
            }
        }
        return edit;
    }

    private static int level(ByteReader r, int maxLevels) {
        int level = r.u8();
        if (level >= maxLevels) {
            throw r.corrupt("level " + level + " out of range");
        }
        return level;
    }

    private static long nonNegative(ByteReader r, long v) {
        if (v < 0) {
            throw r.corrupt("negative value " + v);
        }
        return v;
    }
}
