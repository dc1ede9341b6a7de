package dev.redoubt.tool;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The main job of the README: a short crash-recovery demonstration. Child JVMs append to a WAL and are killed
 * with SIGKILL at random moments; after each kill the log is recovered and every acknowledged record checked.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Write, kill -9, recover, verify: a short crash-recovery demonstration in a temporary directory.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", description = "Data directory (default: a new temporary directory, deleted afterwards).")
    Path dir;

    @Option(names = "--cycles", defaultValue = "5", description = "Crash cycles (default: ${DEFAULT-VALUE}).")
    int cycles;

    @Option(names = "--writers", defaultValue = "4", description = "Writer threads in the child (default: ${DEFAULT-VALUE}).")
    int writers;

    @Option(names = "--durability", defaultValue = "SYNC", description = "SYNC or ASYNC (default: ${DEFAULT-VALUE}).")
    Durability durability;

    @Option(names = "--seed", description = "Seed for the kill moments (default: random; printed).")
    Long seed;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (cycles < 1 || cycles > 10_000 || writers < 1 || writers > 256) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--cycles must be 1..10000 and --writers 1..256");
        }
        long s = seed != null ? seed : System.nanoTime();
        boolean temporary = dir == null;
        Path data = temporary ? Files.createTempDirectory("redoubt-demo-") : dir;
        try {
            out.printf("Redoubt crash-recovery demo: %d cycles, %d writer threads, %s appends, seed %d%n", cycles,
                    writers, durability, s);
            out.printf("data directory: %s%n%n", data);
            out.printf("%5s %10s %12s %10s %6s %14s %11s %12s%n", "cycle", "kill after", "acknowledged", "verified",
                    "lost", "records in log", "torn bytes", "recovery ms");
            out.flush();
            Random random = new Random(s);
            WalCrashRun run = new WalCrashRun(data, writers, durability);
            List<WalCrashRun.Cycle> results = new ArrayList<>();
            for (int c = 1; c <= cycles; c++) {
                long killAfter = 200 + random.nextInt(600);
                WalCrashRun.Cycle r = run.run(c, killAfter);
                results.add(r);
                out.printf("%5d %8d ms %12d %10d %6d %14d %11d %12.1f%n", r.number(), r.killAfterMs(),
                        r.acknowledged(), r.verified(), r.lost(), r.recordsInLog(), r.tornBytes(), r.recoveryMs());
                out.flush();
            }
            RecoveryReport state = Wal.inspect(FileStorageEnv.INSTANCE, data, RecoveryMode.TOLERATE_CORRUPTED_TAIL);
            out.printf("%nWAL after the last recovery: %d records, LSN %d..%d, %d segment(s), clean: %s%n",
                    state.recordsRead(), state.startLsn(), state.endLsn(), state.segments(), state.clean());
            long acked = results.stream().mapToLong(WalCrashRun.Cycle::acknowledged).sum();
            long lost = results.stream().mapToLong(WalCrashRun.Cycle::lost).sum();
            out.println();
            if (lost == 0) {
                out.printf("Proved: across %d kill -9 crashes, all %d acknowledged %s appends were recovered intact, "
                        + "and none was lost.%n", cycles, acked, durability);
                return 0;
            }
            out.printf("FAILED: %d of %d acknowledged appends were lost (seed %d).%n", lost, acked, s);
            return 1;
        } finally {
            if (temporary) {
                deleteTree(data);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
