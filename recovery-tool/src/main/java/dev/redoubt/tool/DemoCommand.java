package dev.redoubt.tool;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.common.FileStorageEnv;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job of the README: a short crash test in a temporary directory (child JVMs write atomic batches and
 * are killed with SIGKILL at random moments, during flushes and compactions; after each kill the database is
 * recovered and every acknowledged batch checked), then {@code db inspect} of what is left, then one sentence.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write, kill -9, recover, verify: a short crash test in a temporary directory, then"
            + " `db inspect` of the result and one sentence of what it proved.",
            "Exit 0: nothing lost; 1: a loss (the seed to replay it is printed)."})
final class DemoCommand extends ToolCommand {
    @Option(names = "--dir", description = "Data directory (default: a new temporary directory, deleted afterwards).")
    Path dir;

    @Option(names = "--cycles", defaultValue = "5", description = "Crash cycles (default: ${DEFAULT-VALUE}).")
    int cycles;

    @Option(names = "--writers", defaultValue = "4", description = "Writer threads in the child (default: ${DEFAULT-VALUE}).")
    int writers;

    @Option(names = "--durability", defaultValue = "MIXED",
            description = "SYNC, ASYNC or MIXED (alternating; default: ${DEFAULT-VALUE}).")
    CrashTestCommand.Mode durability;

    @Option(names = "--kill-after", paramLabel = "MIN..MAX", defaultValue = "150..900",
            description = "Kill moment after the child is ready, in ms (default: ${DEFAULT-VALUE}).")
    String killAfter;

    @Option(names = "--seed", description = "Seed for the kill moments (default: random; printed).")
    Long seed;

    @Override
    int run() throws Exception {
        PrintWriter out = out();
        CrashTestCommand.Settings s = CrashTestCommand.settings(cycles, writers, durability, killAfter, seed, dir,
                false);
        boolean temporary = dir == null;
        Path data = temporary ? Files.createTempDirectory("redoubt-demo-") : dir;
        try {
            out.println("Redoubt demo: child JVMs write atomic 3-key batches to a database and are killed with kill -9"
                    + " at random moments (flushes and compactions run all the time); after each kill the database is"
                    + " recovered and every acknowledged batch is checked.");
            out.println();
            CrashTestCommand.Result r = CrashTestCommand.execute(
                    new CrashTestCommand.Settings(s.cycles(), s.writers(), s.mode(), s.killMinMs(), s.killMaxMs(),
                            s.seed(), data, false), out, false, true);
            out.printf("%n$ redoubt db inspect %s%n", data);
            DbInspectCommand.print(out, DbInspectCommand.inspect(FileStorageEnv.INSTANCE, data, Progress.none()), false);
            out.println();
            if (r.passed()) {
                out.printf("Proved: across %d kill -9 crashes during writes, flushes and compactions, all %,d"
                                + " acknowledged batches (%,d keys, %s) came back with their exact values, and no batch"
                                + " was partially applied.%n", s.cycles(), r.acknowledged(), 3 * r.acknowledged(),
                        s.mode() == CrashTestCommand.Mode.MIXED ? "SYNC and ASYNC" : s.mode().name());
                return ExitCodes.OK;
            }
            out.printf("FAILED: %d acknowledged batches were lost and %d were partial (replay: redoubt demo --seed %d).%n",
                    r.lost(), r.partial(), s.seed());
            return ExitCodes.TORN_OR_LOST;
        } finally {
            if (temporary) {
                DirectoryTrees.deleteTree(data);
            }
        }
    }
}
