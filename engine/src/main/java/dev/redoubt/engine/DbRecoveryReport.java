package dev.redoubt.engine;

import dev.redoubt.wal.RecoveryReport;
import java.util.List;

/**
 * What {@link Db#open} found and did.
 *
 * @param created            a new, empty database was created
 * @param checkpointLsn      the manifest's checkpoint: changes below it were already in tables
 * @param recordsReplayed    WAL records applied to the memtable (redo)
 * @param recordsSkipped     WAL records below the checkpoint, already in tables (idempotent redo skips them)
 * @param batchesReplayed    write batches among the replayed records
 * @param orphansRemoved     files of an interrupted flush, compaction or manifest switch that were deleted
 * @param tornManifestBytes  bytes of an unfinished last manifest edit that were ignored
 * @param wal                the write-ahead log's own recovery report (torn bytes dropped, quarantine)
 * @param elapsedNanos       time the open took
 */
public record DbRecoveryReport(boolean created, long checkpointLsn, long recordsReplayed, long recordsSkipped,
                               long batchesReplayed, List<String> orphansRemoved, long tornManifestBytes,
                               RecoveryReport wal, long elapsedNanos) {

    @Override
    public String toString() {
        return String.format("Db recovery: %s, checkpoint LSN %d, %d records replayed (%d batches), %d skipped, "
                        + "%d orphan files removed%s, %.1f ms%n  %s", created ? "created" : "opened", checkpointLsn,
                recordsReplayed, batchesReplayed, recordsSkipped, orphansRemoved.size(),
                tornManifestBytes > 0 ? ", torn manifest tail of " + tornManifestBytes + " bytes ignored" : "",
                elapsedNanos / 1e6, wal);
    }
}
