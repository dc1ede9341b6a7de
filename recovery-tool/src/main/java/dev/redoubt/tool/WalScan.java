package dev.redoubt.tool;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One read of every record of a WAL, oldest first, as redo would read it: per segment, which LSNs its records
 * span; split at a checkpoint LSN, what redo would skip and what it would replay. Read-only.
 */
final class WalScan {
    /** A segment file and the records found in it ({@code firstLsn = endLsn = -1} when none). */
    record SegmentStats(String name, long baseLsn, long fileBytes, long firstLsn, long endLsn, long records) {
    }

    final List<SegmentStats> segments = new ArrayList<>();
    long startLsn;
    long endLsn;
    long records;
    long recordsBelowCheckpoint;
    long recordsToReplay;
    long batchesToReplay;
    long operationsToReplay;
    long firstReplayLsn = -1;
    WalReader.Status status = WalReader.Status.END;
    String problem;

    static WalScan run(StorageEnv env, Path dir, long checkpointLsn, Progress progress) {
        WalScan scan = new WalScan();
        List<DbInspector.Segment> files = DbInspector.files(env, dir).segments();
        if (files.isEmpty()) {
            return scan;
        }
        DbInspector.Segment last = files.get(files.size() - 1);
        scan.startLsn = files.get(0).baseLsn();
        scan.endLsn = scan.startLsn;
        progress.maxHint(last.baseLsn() + last.fileBytes() - scan.startLsn);
        Map<String, long[]> perSegment = new LinkedHashMap<>(); // name -> {first, end, records}
        for (DbInspector.Segment s : files) {
            perSegment.put(s.name(), new long[] {-1, -1, 0});
        }
        try (WalReader reader = WalReader.open(env, dir.resolve(Wal.WAL_DIR), scan.startLsn)) {
            while (reader.next()) {
                scan.records++;
                scan.endLsn = reader.nextLsn();
                long[] seg = perSegment.get(reader.segmentPath().getFileName().toString());
                if (seg != null) {
                    if (seg[0] < 0) {
                        seg[0] = reader.lsn();
                    }
                    seg[1] = reader.nextLsn();
                    seg[2]++;
                }
                if (reader.lsn() < checkpointLsn) {
                    scan.recordsBelowCheckpoint++;
                } else {
                    if (scan.firstReplayLsn < 0) {
                        scan.firstReplayLsn = reader.lsn();
                    }
                    scan.recordsToReplay++;
                    if (reader.type() == RecordType.WRITE_BATCH) {
                        scan.batchesToReplay++;
                        if (reader.payloadLength() >= 4) {
                            scan.operationsToReplay += reader.payload().getInt(reader.payloadOffset(),
                                    java.nio.ByteOrder.LITTLE_ENDIAN);
                        }
                    }
                }
                if ((scan.records & 0x3FF) == 0) {
                    progress.stepTo(reader.nextLsn() - scan.startLsn);
                }
            }
            scan.status = reader.status();
            scan.problem = reader.problem();
            if (scan.records == 0) {
                scan.endLsn = reader.position();
            }
        }
        for (DbInspector.Segment s : files) {
            long[] seg = perSegment.get(s.name());
            scan.segments.add(new SegmentStats(s.name(), s.baseLsn(), s.fileBytes(), seg[0], seg[1], seg[2]));
        }
        return scan;
    }

    /** Bytes of log redo would read from the checkpoint. */
    long bytesToReplay(long checkpointLsn) {
        return Math.max(0, endLsn - Math.max(checkpointLsn, startLsn));
    }

    List<Object> segmentsJson() {
        List<Object> list = Json.array();
        for (SegmentStats s : segments) {
            list.add(Json.object().put("name", s.name()).put("baseLsn", s.baseLsn()).put("fileBytes", s.fileBytes())
                    .put("firstLsn", s.firstLsn() < 0 ? null : s.firstLsn())
                    .put("endLsn", s.endLsn() < 0 ? null : s.endLsn()).put("records", s.records()));
        }
        return list;
    }
}
