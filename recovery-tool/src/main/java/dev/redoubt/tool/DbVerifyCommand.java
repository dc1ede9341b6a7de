package dev.redoubt.tool;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.engine.FileMeta;
import dev.redoubt.sstable.BlockCache;
import dev.redoubt.sstable.SstProperties;
import dev.redoubt.sstable.SstReader;
import dev.redoubt.wal.DroppedRange;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalCorruptionException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code redoubt db verify}: every table block, key order, the manifest against the files, and the WAL. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check every SSTable (each block's checksum, key order, index, filter, properties), the"
            + " manifest against the tables and the WAL, and every WAL record. Changes nothing.",
            "Exit 0: clean; 1: only a torn WAL tail (bytes the next open drops); 2: corruption (each problem shown)."})
final class DbVerifyCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
    Path dir;

    @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
    boolean json;

    @Override
    int run() throws Exception {
        jsonOutput(json);
        DataDir.requireDatabase(dir);
        StorageEnv env = ReadOnlyStorageEnv.INSTANCE;
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Object> tablesJson = Json.array();
        PrintWriter out = out();
        RecoveryReport wal = null;
        WalCorruptionException walRefusal = null;
        DbInspector.Manifest manifest = null;
        try (AutoCloseable lock = DataDir.holdLock(dir)) {
            try {
                manifest = DbInspector.currentManifest(env, dir, DbInspector.defaultMaxLevels());
            } catch (StorageException e) {
                problems.add("manifest: " + e.getMessage());
            }
            if (manifest != null) {
                verifyTables(env, manifest, problems, tablesJson);
            }
            try {
                // As an open would: the manifest's record of the last clean close proves the log's last records.
                wal = Wal.inspect(env, dir, RecoveryMode.TOLERATE_CORRUPTED_TAIL,
                        manifest == null ? 0 : manifest.walDurableLsn());
            } catch (WalCorruptionException e) {
                walRefusal = e;
                problems.add(String.format("WAL: corruption in segment %s at offset %d (LSN %d)%s: %s", e.segment(),
                        e.offset(), e.lsn(), e.provenDurable() ? " in acknowledged data" : "", e.getMessage()));
            }
            if (manifest != null) {
                checkManifestAgainstFiles(env, manifest, wal, problems, notes);
            }
        }
        int code = problems.isEmpty() ? ExitCodes.OK : ExitCodes.CORRUPTION;
        if (wal != null) {
            for (DroppedRange d : wal.dropped()) {
                if (Reports.walVerdict(new RecoveryReport(wal.mode(), 0, 0, 0, 0, 0, 0, List.of(d), false, 0))
                        == ExitCodes.TORN_OR_LOST) {
                    notes.add("WAL: torn tail of " + d.bytes() + " bytes at LSN " + d.fromLsn() + " in " + d.segment()
                            + " (never acknowledged as durable; the next open drops it)");
                } else {
                    problems.add("WAL: " + d);
                }
            }
            code = problems.isEmpty() ? Reports.walVerdict(wal) : ExitCodes.CORRUPTION;
        }
        if (json) {
            printJson(Json.object().put("command", "db verify").put("dir", dir.toString())
                    .put("status", Reports.status(code)).put("tables", tablesJson).put("problems", problems)
                    .put("notes", notes).put("wal", wal == null ? null : Reports.walRecovery(wal))
                    .put("walCorruption", walRefusal == null ? null : Reports.corruption(walRefusal)));
            return code;
        }
        for (String n : notes) {
            out.println("note: " + n);
        }
        for (String p : problems) {
            out.println("CORRUPTION: " + p);
        }
        out.printf("%s: %d table(s) checked, %d problem(s)%s%n", code == ExitCodes.OK ? "clean"
                        : code == ExitCodes.TORN_OR_LOST ? "torn tail" : "corruption", tablesJson.size(),
                problems.size(), wal == null ? "" : String.format("; WAL %d records, LSN %d..%d", wal.recordsRead(),
                        wal.startLsn(), wal.endLsn()));
        return code;
    }

    private void verifyTables(StorageEnv env, DbInspector.Manifest manifest, List<String> problems, List<Object> json) {
        long total = manifest.tables().stream().mapToLong(FileMeta::bytes).sum();
        try (Progress progress = Progress.bytes(cli(), "db verify", total)) {
            long done = 0;
            for (FileMeta f : manifest.tables()) {
                Path path = DbInspector.tablePath(dir, f.number());
                String problem = verifyTable(env, path, f);
                if (problem != null) {
                    problems.add(problem);
                }
                json.add(Json.object().put("file", "sst/" + path.getFileName())
                        .put("level", manifest.levelOf(f.number())).put("bytes", f.bytes()).put("ok", problem == null)
                        .put("problem", problem));
                done += f.bytes();
                progress.stepTo(done);
            }
        }
    }

    /** Null when the table verifies and matches its manifest entry, else the problem. */
    private static String verifyTable(StorageEnv env, Path path, FileMeta f) {
        String name = "sst/" + path.getFileName();
        if (!Files.exists(path)) {
            return name + ": named by the manifest but missing";
        }
        try (SstReader reader = SstReader.open(env, path, new BlockCache(0))) {
            reader.verify();
            SstProperties p = reader.properties();
            List<String> diffs = new ArrayList<>();
            if (p.fileBytes() != f.bytes()) {
                diffs.add("size " + p.fileBytes() + " vs " + f.bytes());
            }
            if (p.entryCount() != f.entries()) {
                diffs.add("entries " + p.entryCount() + " vs " + f.entries());
            }
            if (p.minSequence() != f.minSequence() || p.maxSequence() != f.maxSequence()) {
                diffs.add("sequences " + p.minSequence() + ".." + p.maxSequence() + " vs " + f.minSequence() + ".."
                        + f.maxSequence());
            }
            if (!Arrays.equals(p.smallestKey(), f.smallestKey()) || !Arrays.equals(p.largestKey(), f.largestKey())) {
                diffs.add("key range " + Bytes.describe(p.smallestKey()) + ".." + Bytes.describe(p.largestKey()) + " vs "
                        + Bytes.describe(f.smallestKey()) + ".." + Bytes.describe(f.largestKey()));
            }
            return diffs.isEmpty() ? null : name + ": the table and its manifest entry differ (table vs manifest: "
                    + String.join(", ", diffs) + ")";
        } catch (StorageException e) {
            return name + ": " + e.getMessage();
        }
    }

    private void checkManifestAgainstFiles(StorageEnv env, DbInspector.Manifest m, RecoveryReport wal,
                                           List<String> problems, List<String> notes) {
        for (FileMeta f : m.tables()) {
            if (f.number() >= m.nextFileNumber()) {
                problems.add("manifest: table " + f.number() + " is at or above the next file number "
                        + m.nextFileNumber());
            }
            if (f.maxSequence() >= m.checkpointLsn()) {
                problems.add("manifest: table " + f.number() + " holds sequence " + f.maxSequence()
                        + ", at or above the checkpoint LSN " + m.checkpointLsn());
            }
        }
        if (m.tornBytes() > 0) {
            notes.add("manifest " + m.name() + ": a torn last edit of " + m.tornBytes()
                    + " bytes (never acknowledged; ignored by the next open)");
        }
        if (wal != null && wal.segments() > 0) {
            if (wal.startLsn() > m.checkpointLsn()) {
                problems.add("WAL starts at LSN " + wal.startLsn() + ", after the checkpoint LSN " + m.checkpointLsn()
                        + ": segments are missing");
            }
            if (wal.endLsn() < m.checkpointLsn()) {
                problems.add("WAL ends at LSN " + wal.endLsn() + ", before the checkpoint LSN " + m.checkpointLsn()
                        + ": segments are missing");
            }
        }
        DbInspector.DirFiles files = DbInspector.files(env, dir);
        java.util.Set<Long> live = DbInspector.liveTableNumbers(m);
        for (Path t : files.tables()) {
            if (!live.contains(DbInspector.tableNumber(t))) {
                notes.add("sst/" + t.getFileName() + " is not in the manifest (an orphan; the next open deletes it)");
            }
        }
        for (String tmp : files.tempFiles()) {
            notes.add(tmp + " is an unfinished file (the next open deletes it)");
        }
    }
}
