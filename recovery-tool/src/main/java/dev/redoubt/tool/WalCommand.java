package dev.redoubt.tool;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.wal.DroppedRange;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalCorruptionException;
import dev.redoubt.wal.WalReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code redoubt wal ...}: read-only views of a data directory's write-ahead log. */
@Command(name = "wal", mixinStandardHelpOptions = true, description = "Dump or verify a write-ahead log (read-only).",
        subcommands = {WalCommand.Dump.class, WalCommand.Verify.class})
final class WalCommand {
    /** Exit codes of {@code wal verify}. */
    static final int CLEAN = 0;
    static final int TORN_TAIL = 1;
    static final int CORRUPTION = 2;

    private WalCommand() {
    }

    static Path requireDatabase(CommandSpec spec, Path dir) {
        if (!Files.isDirectory(dir.resolve(Wal.WAL_DIR))) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), dir + " has no " + Wal.WAL_DIR
                    + "/ directory: not a Redoubt data directory");
        }
        return dir;
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "One line per record: LSN (decimal byte position), epoch, type, payload length.")
    static final class Dump implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", description = "Data directory.")
        Path dir;

        @Option(names = "--from", description = "First LSN (a record boundary; default: the start of the log).")
        Long from;

        @Option(names = "--to", description = "Stop before this LSN.")
        Long to;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            requireDatabase(spec, dir);
            long start = from != null ? from : startOf(dir);
            long count = 0;
            try (WalReader reader = WalReader.open(FileStorageEnv.INSTANCE, dir.resolve(Wal.WAL_DIR), start)) {
                while (reader.next() && (to == null || reader.lsn() < to)) {
                    out.printf("%d epoch=%d %s %d bytes%n", reader.lsn(), reader.epoch(), reader.type(),
                            reader.payloadLength());
                    count++;
                }
                out.printf("# %d records; stopped at LSN %d: %s%n", count, reader.position(),
                        reader.status() == WalReader.Status.CORRUPT ? reader.problem() : reader.status());
            }
            return 0;
        }

        private static long startOf(Path dir) {
            RecoveryReport report = Wal.inspect(FileStorageEnv.INSTANCE, dir, RecoveryMode.POINT_IN_TIME);
            return report.startLsn();
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check every record. Exit 0: clean; 1: torn tail (bytes); 2: corruption (segment, offset, LSN).")
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", description = "Data directory.")
        Path dir;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            requireDatabase(spec, dir);
            RecoveryReport report;
            try {
                report = Wal.inspect(FileStorageEnv.INSTANCE, dir, RecoveryMode.TOLERATE_CORRUPTED_TAIL);
            } catch (WalCorruptionException e) {
                out.printf("CORRUPTION in segment %s at offset %d (LSN %d)%s%n%s%n", e.segment(), e.offset(), e.lsn(),
                        e.provenDurable() ? ": acknowledged data" : "", e.getMessage());
                return CORRUPTION;
            }
            out.println(report);
            int code = CLEAN;
            for (DroppedRange r : report.dropped()) {
                code = Math.max(code, r.kind() == DroppedRange.Kind.TORN_TAIL ? TORN_TAIL : CORRUPTION);
            }
            out.println(switch (code) {
                case CLEAN -> "clean";
                case TORN_TAIL -> "torn tail: " + report.bytesDropped() + " bytes would be dropped at the next open";
                default -> "corruption: see the ranges above";
            });
            return code;
        }
    }
}
