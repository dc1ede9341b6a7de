package dev.redoubt.tool;

import dev.redoubt.common.KeyOrder;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.engine.FileMeta;
import dev.redoubt.wal.DroppedRange;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalCorruptionException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code redoubt db inspect}: what a data directory holds and what the next open would do, read-only. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Show the checkpoint LSN, epoch, tables per level (count, bytes, key range), WAL segments and"
            + " their LSN ranges, and what recovery would replay. Changes nothing.",
            "Exit 0: inspected; 2: the manifest is unreadable or the WAL would refuse to open (shown)."})
final class DbInspectCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
    Path dir;

    @Option(names = "--tables", description = "List every table (JSON output always does).")
    boolean tables;

    @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
    boolean json;

    /** Everything inspect found; also used by the demo. */
    record View(Path dir, DbInspector.DirFiles files, DbInspector.Manifest manifest, String manifestProblem,
                RecoveryReport wal, WalCorruptionException walRefusal, WalScan scan, List<String> orphans) {

        long checkpointLsn() {
            return manifest == null ? 0 : manifest.checkpointLsn();
        }

        boolean healthy() {
            return manifest != null && walRefusal == null;
        }

        /** Whether the next open would succeed. */
        boolean opens() {
            return healthy() && DbRecoverCommand.engineRefusal(wal, manifest.checkpointLsn(), dir) == null;
        }
    }

    @Override
    int run() throws Exception {
        jsonOutput(json);
        DataDir.requireDatabaseOrRemains(dir);
        View view;
        try (AutoCloseable lock = DataDir.holdLock(dir);
             Progress progress = Progress.bytes(cli(), "db inspect", -1)) {
            view = inspect(ReadOnlyStorageEnv.INSTANCE, dir, progress);
        }
        if (json) {
            printJson(toJson(view));
        } else {
            print(out(), view, tables);
        }
        return view.opens() ? ExitCodes.OK : ExitCodes.CORRUPTION;
    }

    static View inspect(StorageEnv env, Path dir, Progress progress) {
        DbInspector.DirFiles files = DbInspector.files(env, dir);
        DbInspector.Manifest manifest = null;
        String problem = null;
        try {
            manifest = DbInspector.currentManifest(env, dir, DbInspector.defaultMaxLevels());
        } catch (StorageException e) {
            problem = e.getMessage();
        }
        RecoveryReport wal = null;
        WalCorruptionException refusal = null;
        try {
            wal = Wal.inspect(env, dir, RecoveryMode.TOLERATE_CORRUPTED_TAIL,
                    manifest == null ? 0 : manifest.walDurableLsn());
        } catch (WalCorruptionException e) {
            refusal = e;
        }
        WalScan scan = WalScan.run(env, dir, manifest == null ? 0 : manifest.checkpointLsn(), progress);
        List<String> orphans = new ArrayList<>(files.tempFiles());
        if (manifest != null) {
            Set<Long> live = DbInspector.liveTableNumbers(manifest);
            for (Path t : files.tables()) {
                if (!live.contains(DbInspector.tableNumber(t))) {
                    orphans.add(DbInspector.SST_DIR + "/" + t.getFileName());
                }
            }
            for (String m : files.manifests()) {
                if (!m.equals(manifest.name())) {
                    orphans.add(m);
                }
            }
        }
        return new View(dir, files, manifest, problem, wal, refusal, scan, List.copyOf(orphans));
    }

    private static byte[][] keyRange(List<FileMeta> tables) {
        byte[] smallest = null;
        byte[] largest = null;
        for (FileMeta f : tables) {
            smallest = smallest == null || KeyOrder.compareKeys(f.smallestKey(), smallest) < 0 ? f.smallestKey() : smallest;
            largest = largest == null || KeyOrder.compareKeys(f.largestKey(), largest) > 0 ? f.largestKey() : largest;
        }
        return new byte[][] {smallest, largest};
    }

    static void print(PrintWriter out, View v, boolean listTables) {
        out.printf("Redoubt database %s%n", v.dir());
        DbInspector.Manifest m = v.manifest();
        if (m == null) {
            out.printf("  manifest         UNREADABLE: %s%n", v.manifestProblem());
        } else {
            out.printf("  CURRENT          %s (%d edit%s%s)%n", m.name(), m.edits(), m.edits() == 1 ? "" : "s",
                    m.tornBytes() > 0 ? ", " + m.tornBytes() + " torn bytes at its end" : "");
            out.printf("  checkpoint LSN   %d%n", m.checkpointLsn());
            out.printf("  epoch            %d%n", m.epoch());
            out.printf("  next file number %d%n", m.nextFileNumber());
            long tables = 0;
            long bytes = 0;
            for (FileMeta f : m.tables()) {
                tables++;
                bytes += f.bytes();
            }
            out.printf("%nTables: %d, %s%n", tables, Bytes.size(bytes));
            out.printf("  %-5s %6s %11s  %s%n", "level", "tables", "bytes", "key range");
            for (int level = 0; level < m.levels().size(); level++) {
                List<FileMeta> files = m.levels().get(level);
                if (files.isEmpty()) {
                    continue;
                }
                long lb = files.stream().mapToLong(FileMeta::bytes).sum();
                byte[][] range = keyRange(files);
                out.printf("  L%-4d %6d %11s  %s .. %s%n", level, files.size(), Bytes.size(lb),
                        Bytes.describe(range[0]), Bytes.describe(range[1]));
            }
            for (int level = 0; listTables && level < m.levels().size(); level++) {
                for (FileMeta f : m.levels().get(level)) {
                    out.printf("    L%d %06d.sst %11s %9d entries  seq %d..%d  %s .. %s%n", level, f.number(),
                            Bytes.size(f.bytes()), f.entries(), f.minSequence(), f.maxSequence(),
                            Bytes.describe(f.smallestKey()), Bytes.describe(f.largestKey()));
                }
            }
        }
        WalScan s = v.scan();
        out.printf("%nWAL: %d segment(s), %d records, LSN %d..%d%n", s.segments.size(), s.records, s.startLsn, s.endLsn);
        if (!s.segments.isEmpty()) {
            out.printf("  %-24s %12s %9s  %-25s %11s%n", "segment", "base LSN", "records", "records' LSN range", "file");
            for (WalScan.SegmentStats seg : s.segments) {
                out.printf("  %-24s %12d %9d  %-25s %11s%n", seg.name(), seg.baseLsn(), seg.records(),
                        seg.records() == 0 ? "-" : seg.firstLsn() + ".." + seg.endLsn(), Bytes.size(seg.fileBytes()));
            }
        }
        out.printf("%nRecovery (%s) would:%n", RecoveryMode.TOLERATE_CORRUPTED_TAIL);
        if (v.walRefusal() != null) {
            WalCorruptionException e = v.walRefusal();
            out.printf("  REFUSE to open: corruption in segment %s at offset %d (LSN %d)%s%n", e.segment(), e.offset(),
                    e.lsn(), e.provenDurable() ? " in acknowledged data" : "");
            out.println("  (see docs/after-a-crash.md: `redoubt db recover --dry-run --mode ...`, `redoubt db repair`)");
        } else if (m == null) {
            out.println("  REFUSE to open: the manifest is unreadable; run `redoubt db repair " + v.dir() + "`");
        } else {
            long c = m.checkpointLsn();
            out.printf("  skip   %d record(s) below the checkpoint (already in tables)%n", s.recordsBelowCheckpoint);
            out.printf("  replay %d record(s) (%d batches, %d operations), %s of log, LSN %d..%d%n", s.recordsToReplay,
                    s.batchesToReplay, s.operationsToReplay, Bytes.size(s.bytesToReplay(c)), Math.max(c, s.startLsn),
                    Math.max(s.endLsn, c));
            RecoveryReport w = v.wal();
            out.printf("  drop   %d torn byte(s)%s%n", w.bytesDropped(), w.bytesDropped() > 0 ? " (copied to lost/)" : "");
            for (DroppedRange d : w.dropped()) {
                out.printf("           %s%n", d);
            }
            String refusal = DbRecoverCommand.engineRefusal(w, c, v.dir());
            if (refusal != null) {
                out.printf("  REFUSE: %s%n", refusal);
            }
        }
        out.printf("  remove %d orphan file(s)%s%n", v.orphans().size(),
                v.orphans().isEmpty() ? "" : ": " + String.join(", ", v.orphans()));
        out.printf("%nlost/: %d file(s)%s%n", v.files().lost().size(),
                v.files().lost().isEmpty() ? "" : ": " + String.join(", ", v.files().lost()));
    }

    static Json toJson(View v) {
        DbInspector.Manifest m = v.manifest();
        Json j = Json.object().put("command", "db inspect").put("dir", v.dir().toString());
        if (m == null) {
            j.put("manifest", null).put("manifestProblem", v.manifestProblem());
        } else {
            List<Object> levels = Json.array();
            for (int level = 0; level < m.levels().size(); level++) {
                List<FileMeta> files = m.levels().get(level);
                List<Object> tables = Json.array();
                files.forEach(f -> tables.add(Reports.table(v.manifest().levelOf(f.number()), f)));
                byte[][] range = keyRange(files);
                levels.add(Json.object().put("level", level).put("tables", files.size())
                        .put("bytes", files.stream().mapToLong(FileMeta::bytes).sum())
                        .putBytes("smallestKey", range[0]).putBytes("largestKey", range[1]).put("files", tables));
            }
            j.put("manifest", Json.object().put("name", m.name()).put("edits", m.edits())
                    .put("tornBytes", m.tornBytes())).put("manifestProblem", null)
                    .put("checkpointLsn", m.checkpointLsn()).put("epoch", m.epoch())
                    .put("nextFileNumber", m.nextFileNumber()).put("levels", levels);
        }
        WalScan s = v.scan();
        j.put("wal", Json.object().put("startLsn", s.startLsn).put("endLsn", s.endLsn).put("records", s.records)
                .put("segments", s.segmentsJson()));
        long c = v.checkpointLsn();
        Json recovery = Json.object().put("mode", RecoveryMode.TOLERATE_CORRUPTED_TAIL)
                .put("wouldRefuse", !v.healthy() || DbRecoverCommand.engineRefusal(v.wal(), c, v.dir()) != null)
                .put("refusal", v.walRefusal() == null ? null : Reports.corruption(v.walRefusal()))
                .put("problem", v.healthy() ? DbRecoverCommand.engineRefusal(v.wal(), c, v.dir()) : null)
                .put("replayFromLsn", Math.max(c, s.startLsn)).put("replayToLsn", Math.max(s.endLsn, c))
                .put("recordsToSkip", s.recordsBelowCheckpoint).put("recordsToReplay", s.recordsToReplay)
                .put("batchesToReplay", s.batchesToReplay).put("operationsToReplay", s.operationsToReplay)
                .put("bytesToReplay", s.bytesToReplay(c))
                .put("tornBytesToDrop", v.wal() == null ? null : v.wal().bytesDropped())
                .put("walRecovery", v.wal() == null ? null : Reports.walRecovery(v.wal()))
                .put("orphansToRemove", v.orphans());
        return j.put("recovery", recovery).put("lost", v.files().lost());
    }
}
