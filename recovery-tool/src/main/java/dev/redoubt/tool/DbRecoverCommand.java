package dev.redoubt.tool;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.DbRecoveryReport;
import dev.redoubt.wal.DroppedRange;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalCorruptionException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code redoubt db recover}: redo recovery now, with a progress bar and a report; or say what it would do. */
@Command(name = "recover", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Open the database (redo: replay the WAL from the checkpoint into the memtable), flush it to"
            + " a new checkpoint, close it, and report: records replayed and skipped, torn bytes dropped, time, MB/s.",
            "With --dry-run, change nothing and say what the recovery would do.",
            "Exit 0: recovered, nothing dropped; 1: recovered after dropping bytes (listed, copied to lost/);"
                + " 2: the mode refuses (corruption it may not drop)."})
final class DbRecoverCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
    Path dir;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "TOLERATE_CORRUPTED_TAIL",
            description = "Recovery mode: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). What each may drop:"
                    + " docs/after-a-crash.md.")
    RecoveryMode mode;

    @Option(names = "--dry-run", description = "Change nothing; report what the recovery would replay and drop.")
    boolean dryRun;

    @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
    boolean json;

    @Override
    int run() throws Exception {
        jsonOutput(json);
        DataDir.requireDatabase(dir);
        return dryRun ? dryRun() : recover();
    }

    private int dryRun() throws Exception {
        DbInspector.Manifest manifest;
        RecoveryReport wal;
        WalScan scan;
        try (AutoCloseable lock = DataDir.holdLock(dir);
             Progress progress = Progress.bytes(cli(), "db recover --dry-run", -1)) {
            manifest = DbInspector.currentManifest(ReadOnlyStorageEnv.INSTANCE, dir, DbInspector.defaultMaxLevels());
            try {
                wal = Wal.inspect(ReadOnlyStorageEnv.INSTANCE, dir, mode, manifest.walDurableLsn());
            } catch (WalCorruptionException e) {
                return refused(e, true);
            }
            scan = WalScan.run(ReadOnlyStorageEnv.INSTANCE, dir, manifest.checkpointLsn(), progress);
        }
        long c = manifest.checkpointLsn();
        String refusal = engineRefusal(wal, c, dir);
        if (refusal != null) {
            return refusedAfterWal(refusal, wal, true);
        }
        int code = wal.bytesDropped() > 0 ? ExitCodes.TORN_OR_LOST : ExitCodes.OK;
        if (json) {
            printJson(Json.object().put("command", "db recover").put("dir", dir.toString()).put("dryRun", true)
                    .put("mode", mode).put("status", code == ExitCodes.OK ? "clean" : "would_drop")
                    .put("checkpointLsn", c).put("recordsToSkip", scan.recordsBelowCheckpoint)
                    .put("recordsToReplay", scan.recordsToReplay).put("batchesToReplay", scan.batchesToReplay)
                    .put("bytesToReplay", scan.bytesToReplay(c)).put("bytesToDrop", wal.bytesDropped())
                    .put("wal", Reports.walRecovery(wal)).put("corruption", null));
            return code;
        }
        PrintWriter out = out();
        out.printf("Recovery of %s (%s) would, changing nothing now:%n", dir, mode);
        out.printf("  skip    %d record(s) below the checkpoint LSN %d%n", scan.recordsBelowCheckpoint, c);
        out.printf("  replay  %d record(s) (%d batches), %s of log from LSN %d%n", scan.recordsToReplay,
                scan.batchesToReplay, Bytes.size(scan.bytesToReplay(c)), Math.max(c, scan.startLsn));
        out.printf("  drop    %d byte(s)%s%n", wal.bytesDropped(), wal.bytesDropped() > 0 ? " (copied to lost/ first):" : "");
        for (DroppedRange d : wal.dropped()) {
            out.printf("          %s%n", d);
        }
        return code;
    }

    /**
     * Why the engine would refuse to open after the WAL's own recovery in this mode (its log must reach the
     * checkpoint and start at or below it), or null. Checked before anything is changed.
     */
    static String engineRefusal(RecoveryReport wal, long checkpointLsn, Path dir) {
        if (wal.segments() == 0) {
            return null;
        }
        if (wal.endLsn() < checkpointLsn) {
            return "after " + wal.mode() + " the WAL would end at LSN " + wal.endLsn() + ", below the checkpoint LSN "
                    + checkpointLsn + " (the damage is in records already in tables); `redoubt db repair " + dir
                    + "` keeps the tables and sets the log aside in lost/";
        }
        if (wal.startLsn() > checkpointLsn) {
            return "the WAL starts at LSN " + wal.startLsn() + ", after the checkpoint LSN " + checkpointLsn
                    + ": segments are missing; `redoubt db repair " + dir + "` salvages what is there";
        }
        return null;
    }

    private int refusedAfterWal(String refusal, RecoveryReport wal, boolean dry) {
        if (json) {
            printJson(Json.object().put("command", "db recover").put("dir", dir.toString()).put("dryRun", dry)
                    .put("mode", mode).put("status", "refused").put("problem", refusal)
                    .put("wal", Reports.walRecovery(wal)).put("corruption", null));
        } else {
            out().printf("%s: the database would not open: %s%n", dry ? "dry run" : "recovery (nothing was changed)",
                    refusal);
        }
        return ExitCodes.CORRUPTION;
    }

    private int refused(WalCorruptionException e, boolean dry) {
        if (json) {
            printJson(Json.object().put("command", "db recover").put("dir", dir.toString()).put("dryRun", dry)
                    .put("mode", mode).put("status", "refused").put("corruption", Reports.corruption(e)));
        } else {
            out().printf("%s: %s refuses to open: corruption in segment %s at offset %d (LSN %d)%s%n  %s%n",
                    dry ? "dry run" : "recovery", mode, e.segment(), e.offset(), e.lsn(),
                    e.provenDurable() ? " in acknowledged data" : "", e.getMessage());
            out().println("  Next: `redoubt db recover --dry-run --mode POINT_IN_TIME` (or SKIP_CORRUPTED) shows what"
                    + " another mode would drop; docs/after-a-crash.md");
        }
        return ExitCodes.CORRUPTION;
    }

    private int recover() throws Exception {
        try (AutoCloseable lock = DataDir.holdLock(dir)) {
            // Decide from a dry run first, so that a recovery the engine would refuse changes nothing.
            DbInspector.Manifest manifest = DbInspector.currentManifest(ReadOnlyStorageEnv.INSTANCE, dir,
                    DbInspector.defaultMaxLevels());
            long c = manifest.checkpointLsn();
            RecoveryReport plan;
            try {
                plan = Wal.inspect(ReadOnlyStorageEnv.INSTANCE, dir, mode, manifest.walDurableLsn());
            } catch (WalCorruptionException e) {
                return refused(e, false);
            }
            String refusal = engineRefusal(plan, c, dir);
            if (refusal != null) {
                return refusedAfterWal(refusal, plan, false);
            }
        }
        CountingStorageEnv env = new CountingStorageEnv();
        long segmentBytes = DbInspector.files(ReadOnlyStorageEnv.INSTANCE, dir).segments().stream()
                .mapToLong(DbInspector.Segment::fileBytes).sum();
        DbRecoveryReport report;
        long checkpointAfter;
        long started = System.nanoTime();
        Db db;
        try (Progress progress = Progress.bytes(cli(), "db recover", 2 * segmentBytes)) {
            Thread ticker = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    progress.stepTo(Math.min(env.walBytesRead(), 2 * segmentBytes));
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "recover-progress");
            ticker.setDaemon(true);
            ticker.start();
            try {
                db = Db.open(env, dir, DbOptions.defaults().recoveryMode(mode));
            } catch (WalCorruptionException e) {
                return refused(e, false);
            } finally {
                ticker.interrupt();
                ticker.join();
            }
        }
        try {
            report = db.recoveryReport();
            db.flush();
            checkpointAfter = db.stats().checkpointLsn();
        } finally {
            db.close();
        }
        double totalMs = (System.nanoTime() - started) / 1e6;
        RecoveryReport wal = report.wal();
        long bytesReplayed = Math.max(0, wal.endLsn() - Math.max(report.checkpointLsn(), wal.startLsn()));
        double openMs = report.elapsedNanos() / 1e6;
        double mbPerSecond = openMs <= 0 ? 0 : bytesReplayed / 1e6 / (openMs / 1000);
        int code = wal.bytesDropped() > 0 ? ExitCodes.TORN_OR_LOST : ExitCodes.OK;
        if (json) {
            printJson(Json.object().put("command", "db recover").put("dir", dir.toString()).put("dryRun", false)
                    .put("mode", mode).put("status", code == ExitCodes.OK ? "recovered" : "recovered_with_drops")
                    .put("recordsReplayed", report.recordsReplayed()).put("batchesReplayed", report.batchesReplayed())
                    .put("recordsSkipped", report.recordsSkipped()).put("bytesReplayed", bytesReplayed)
                    .put("tornBytesDropped", wal.bytesDropped()).put("recoveryMs", openMs)
                    .put("mbPerSecond", mbPerSecond).put("checkpointLsnAfterFlush", checkpointAfter)
                    .put("totalMs", totalMs).put("recovery", Reports.dbRecovery(report)).put("corruption", null));
            return code;
        }
        PrintWriter out = out();
        out.printf("Recovered %s (%s) in %.1f ms%n", dir, mode, openMs);
        out.printf("  checkpoint LSN  %d%n", report.checkpointLsn());
        out.printf("  replayed        %d record(s) (%d batches), %s of log from LSN %d to %d, %.1f MB/s%n",
                report.recordsReplayed(), report.batchesReplayed(), Bytes.size(bytesReplayed),
                Math.max(report.checkpointLsn(), wal.startLsn()), wal.endLsn(), mbPerSecond);
        out.printf("  skipped         %d record(s) below the checkpoint%n", report.recordsSkipped());
        out.printf("  dropped         %d byte(s)%s%n", wal.bytesDropped(),
                wal.bytesDropped() > 0 ? " (copied to lost/):" : "");
        for (DroppedRange d : wal.dropped()) {
            out.printf("                  %s%n", d);
        }
        if (!report.orphansRemoved().isEmpty()) {
            out.printf("  orphans removed %s%n", String.join(", ", report.orphansRemoved()));
        }
        if (report.tornManifestBytes() > 0) {
            out.printf("  manifest        a torn last edit of %d bytes was ignored%n", report.tornManifestBytes());
        }
        out.printf("  flushed         the checkpoint is now LSN %d (the next open replays nothing); %.1f ms in all%n",
                checkpointAfter, totalMs);
        return code;
    }
}
