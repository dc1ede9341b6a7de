package dev.redoubt.tool;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.engine.DbRepair;
import dev.redoubt.wal.RecoveryMode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code redoubt db repair}: salvage a damaged directory (see {@link DbRepair}). */
@Command(name = "repair", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Salvage a damaged data directory: verify every table, rebuild the manifest from the readable"
            + " tables and the WAL, move every file it cannot keep into lost/ (nothing is deleted), then open the"
            + " database once to prove it opens. Reports what was kept and what was lost.",
            "Exit 0: repaired, nothing lost; 1: repaired, some data lost (listed); 2: the result still does not"
                + " open."})
final class DbRepairCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "DIR", description = "Data directory (with or without CURRENT).")
    Path dir;

    @Option(names = "--wal-mode", paramLabel = "MODE", defaultValue = "SKIP_CORRUPTED",
            description = "How the WAL is salvaged: SKIP_CORRUPTED (keep every readable record) or POINT_IN_TIME"
                    + " (keep the log up to the first damage). Default: ${DEFAULT-VALUE}.")
    RecoveryMode walMode;

    @Option(names = "--tables", description = "List every table kept (JSON output always does).")
    boolean tables;

    @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
    boolean json;

    @Override
    int run() {
        jsonOutput(json);
        if (walMode != RecoveryMode.SKIP_CORRUPTED && walMode != RecoveryMode.POINT_IN_TIME) {
            throw CliException.usage("--wal-mode must be SKIP_CORRUPTED or POINT_IN_TIME (the modes that never"
                    + " refuse), got " + walMode);
        }
        DataDir.requireDatabaseOrRemains(dir);
        DbRepair.Report r;
        try (Progress progress = Progress.bytes(cli(), "db repair", -1)) {
            r = DbRepair.repair(FileStorageEnv.INSTANCE, dir, walMode, (phase, done, total) -> {
                progress.maxHint(total);
                progress.stepTo(done);
            });
        }
        int code = r.dataLost() ? ExitCodes.TORN_OR_LOST : ExitCodes.OK;
        if (json) {
            List<Object> kept = Json.array();
            r.kept().forEach(k -> kept.add(Reports.table(k.level(), k.table())));
            List<Object> moved = Json.array();
            r.moved().forEach(m -> moved.add(Json.object().put("file", m.file()).put("movedTo", m.movedTo())
                    .put("reason", m.reason())));
            printJson(Json.object().put("command", "db repair").put("dir", dir.toString())
                    .put("status", r.dataLost() ? "repaired_with_loss" : "repaired").put("walMode", walMode)
                    .put("manifestUsed", r.manifestUsed()).put("manifestProblem", r.manifestProblem())
                    .put("newManifest", r.newManifest()).put("checkpointLsn", r.checkpointLsn()).put("epoch", r.epoch())
                    .put("kept", kept).put("moved", moved).put("lost", r.lost())
                    .put("open", Reports.dbRecovery(r.open())));
            return code;
        }
        PrintWriter out = out();
        out.printf("Repaired %s%n", dir);
        out.printf("  manifest   %s%n", r.manifestUsed() != null ? "levels taken from " + r.manifestUsed()
                : "none usable (" + r.manifestProblem() + "): every readable table was rebuilt into level 1");
        out.printf("  new        %s, checkpoint LSN %d, epoch %d%n", r.newManifest(), r.checkpointLsn(), r.epoch());
        java.util.Map<Integer, Long> perLevel = new java.util.TreeMap<>();
        r.kept().forEach(k -> perLevel.merge(k.level(), 1L, Long::sum));
        StringBuilder levels = new StringBuilder();
        perLevel.forEach((level, n) -> levels.append(levels.length() == 0 ? "" : ", ").append("L").append(level)
                .append(": ").append(n));
        out.printf("  kept       %d table(s) (%s), %d entries%n", r.kept().size(), levels,
                r.kept().stream().mapToLong(k -> k.table().entries()).sum());
        for (DbRepair.Kept k : tables ? r.kept() : List.<DbRepair.Kept>of()) {
            out.printf("               L%d %06d.sst %9d entries  %s .. %s%n", k.level(), k.table().number(),
                    k.table().entries(), Bytes.describe(k.table().smallestKey()), Bytes.describe(k.table().largestKey()));
        }
        out.printf("  moved      %d file(s) to lost/%s%n", r.moved().size(), r.moved().isEmpty() ? "" : ":");
        for (DbRepair.Moved m : r.moved()) {
            out.printf("               %s -> %s: %s%n", m.file(), m.movedTo(), m.reason());
        }
        out.printf("  WAL        %d record(s) replayed by the trial open (%s), %d byte(s) dropped%n",
                r.open().recordsReplayed(), walMode, r.open().wal().bytesDropped());
        if (r.lost().isEmpty()) {
            out.println("  lost       nothing");
        } else {
            out.println("  LOST:");
            r.lost().forEach(l -> out.printf("               %s%n", l));
        }
        out.println("The database opens again. Run `redoubt db verify " + dir + "` to check it.");
        return code;
    }
}
