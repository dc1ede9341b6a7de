package dev.redoubt.tool;

import dev.redoubt.engine.DbRecoveryReport;
import dev.redoubt.engine.FileMeta;
import dev.redoubt.wal.DroppedRange;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.WalCorruptionException;
import java.util.List;

/** The JSON shapes shared by several commands (documented in recovery-tool/README.md). */
final class Reports {
    private Reports() {
    }

    static Json walRecovery(RecoveryReport r) {
        List<Object> dropped = Json.array();
        for (DroppedRange d : r.dropped()) {
            dropped.add(droppedRange(d));
        }
        return Json.object().put("mode", r.mode()).put("startLsn", r.startLsn()).put("endLsn", r.endLsn())
                .put("records", r.recordsRead()).put("segments", r.segments()).put("lastEpoch", r.lastEpoch())
                .put("maxDurableLsn", r.maxDurableLsn()).put("bytesDropped", r.bytesDropped())
                .put("acknowledgedLoss", r.acknowledgedLoss()).put("dropped", dropped)
                .put("elapsedMs", r.elapsedNanos() / 1e6);
    }

    static Json droppedRange(DroppedRange d) {
        return Json.object().put("kind", d.kind()).put("fromLsn", d.fromLsn()).put("toLsn", d.toLsn())
                .put("bytes", d.bytes()).put("segment", d.segment()).put("offset", d.offset())
                .put("reason", d.reason()).put("provenDurable", d.provenDurable())
                .put("recordsAfter", d.recordsAfter()).put("quarantineFile", d.quarantineFile());
    }

    static Json corruption(WalCorruptionException e) {
        return Json.object().put("segment", e.segment()).put("offset", e.offset()).put("lsn", e.lsn())
                .put("provenDurable", e.provenDurable()).put("message", e.getMessage());
    }

    static Json table(int level, FileMeta f) {
        return Json.object().put("level", level).put("number", f.number())
                .put("file", String.format("sst/%06d.sst", f.number())).put("bytes", f.bytes())
                .put("entries", f.entries()).putBytes("smallestKey", f.smallestKey())
                .putBytes("largestKey", f.largestKey()).put("minSequence", f.minSequence())
                .put("maxSequence", f.maxSequence());
    }

    static Json dbRecovery(DbRecoveryReport r) {
        return Json.object().put("created", r.created()).put("checkpointLsn", r.checkpointLsn())
                .put("recordsReplayed", r.recordsReplayed()).put("batchesReplayed", r.batchesReplayed())
                .put("recordsSkipped", r.recordsSkipped()).put("orphansRemoved", r.orphansRemoved())
                .put("tornManifestBytes", r.tornManifestBytes()).put("wal", walRecovery(r.wal()))
                .put("elapsedMs", r.elapsedNanos() / 1e6);
    }

    /** The verdict of a WAL check: 0 clean, 1 torn tail only, 2 corruption. */
    static int walVerdict(RecoveryReport r) {
        int code = ExitCodes.OK;
        for (DroppedRange d : r.dropped()) {
            code = Math.max(code, d.kind() == DroppedRange.Kind.TORN_TAIL && !d.provenDurable()
                    ? ExitCodes.TORN_OR_LOST : ExitCodes.CORRUPTION);
        }
        return code;
    }

    static String status(int code) {
        return switch (code) {
            case ExitCodes.OK -> "clean";
            case ExitCodes.TORN_OR_LOST -> "torn_tail";
            default -> "corruption";
        };
    }
}
