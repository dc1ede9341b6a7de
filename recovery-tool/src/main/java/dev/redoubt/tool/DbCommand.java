package dev.redoubt.tool;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.engine.FileMeta;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code redoubt db ...}: a whole data directory. */
@Command(name = "db", mixinStandardHelpOptions = true,
        description = "Inspect, verify, recover, repair or copy a data directory.",
        subcommands = {DbInspectCommand.class, DbVerifyCommand.class, DbRecoverCommand.class, DbRepairCommand.class,
            DbCommand.Checkpoint.class})
final class DbCommand {
    private DbCommand() {
    }

    @Command(name = "checkpoint", mixinStandardHelpOptions = true,
            description = {"Write a consistent, openable copy of the database to TARGET (hard links to the tables,"
                + " a new manifest). Opens (recovers) and flushes the database first.",
                "Exit 0: written."})
    static final class Checkpoint extends ToolCommand {
        @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
        Path dir;

        @Parameters(index = "1", paramLabel = "TARGET", description = "A new or empty directory for the copy.")
        Path target;

        @Override
        int run() throws Exception {
            DataDir.requireDatabase(dir);
            if (target.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
                throw CliException.usage("TARGET must differ from DIR");
            }
            if (Files.exists(target)) {
                if (!Files.isDirectory(target)) {
                    throw CliException.usage("TARGET " + target + " is a file; give a new or empty directory");
                }
                try (Stream<Path> s = Files.list(target)) {
                    if (s.findAny().isPresent()) {
                        throw CliException.usage("TARGET " + target + " is not empty; give a new or empty directory");
                    }
                }
            }
            Files.createDirectories(target);
            try (Db db = Db.open(dir)) {
                db.checkpoint(target);
            }
            DbInspector.Manifest m = DbInspector.currentManifest(FileStorageEnv.INSTANCE, target,
                    DbInspector.defaultMaxLevels());
            long bytes = m.tables().stream().mapToLong(FileMeta::bytes).sum();
            out().printf("Checkpoint of %s written to %s: %d table(s), %s, checkpoint LSN %d%n", dir, target,
                    m.tables().size(), Bytes.size(bytes), m.checkpointLsn());
            return ExitCodes.OK;
        }
    }
}
