package dev.redoubt.tool;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.common.PowerLossStorageEnv;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.wal.Durability;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code redoubt crash-test}: child JVMs write atomic batches to a Db and are killed with SIGKILL at random
 * moments (flushes and compactions run all the time with the child's tiny memtables); after each kill the
 * database is reopened and every acknowledged batch is checked. With {@code --power-loss} the child runs on a
 * {@link PowerLossStorageEnv}, so that each kill also loses what a power cut would (see {@link DbCrashRun} for
 * what must hold then).
 */
@Command(name = "crash-test", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Kill -9 a writing database again and again; after each kill, recover and check that every"
            + " acknowledged batch is there with its exact values, that each writer's batches have no hole and that"
            + " no batch is partial. With --power-loss each kill is also a power cut: what the child had not fsynced"
            + " is lost too, so every SYNC batch must survive and the ASYNC ones that survive must be a gap-free"
            + " prefix of each writer's sequence. One table row per cycle, then a summary. The seed fixes the kill"
            + " moments and the durability of each cycle.",
            "Exit 0: nothing lost; 1: an acknowledged batch that had to survive was lost (with --power-loss, ASYNC"
            + " ones may go from the end of a writer's sequence), a batch was partial, or a writer's batches had a"
            + " hole."})
final class CrashTestCommand extends ToolCommand {
    /** Durability of the child's writes, per cycle. */
    enum Mode {
        SYNC, ASYNC,
        /** Alternate: odd cycles SYNC, even cycles ASYNC. */
        MIXED
    }

    @Option(names = "--dir", paramLabel = "D",
            description = "Data directory: missing, empty, or a database (default: a new temporary directory, deleted"
                    + " afterwards).")
    Path dir;

    @Option(names = "--cycles", paramLabel = "N", defaultValue = "20", description = "Crash cycles (default: ${DEFAULT-VALUE}).")
    int cycles;

    @Option(names = "--writers", paramLabel = "K", defaultValue = "4",
            description = "Writer threads in the child (default: ${DEFAULT-VALUE}).")
    int writers;

    @Option(names = "--durability", paramLabel = "MODE", defaultValue = "MIXED",
            description = "SYNC, ASYNC, or MIXED (SYNC and ASYNC cycles alternate; default: ${DEFAULT-VALUE}).")
    Mode durability;

    @Option(names = "--kill-after", paramLabel = "MIN..MAX", defaultValue = "100..800",
            description = "Kill the child this many ms after it is ready, uniformly at random (default: ${DEFAULT-VALUE}).")
    String killAfter;

    @Option(names = "--seed", paramLabel = "S", description = "Seed for the kill moments (default: random; printed).")
    Long seed;

    @Option(names = "--power-loss",
            description = "Make each kill a power cut: the child keeps every byte it has not fsynced in its own memory"
                    + " (creates and renames still reach the disk at once; deletes at the directory's fsync), so the"
                    + " kill loses it. ASYNC batches may then be lost, from the end of each writer's sequence only.")
    boolean powerLoss;

    @Option(names = "--keep", description = "Keep the temporary directory.")
    boolean keep;

    @Option(names = "--json", description = "One JSON document at the end (see the README's CLI reference).")
    boolean json;

    /**
     * What a whole run saw: the cycles, then the final re-check of the {@code expectedAtEnd} batches that had to
     * survive (every acknowledged one, less the ASYNC ones a power cut was allowed to take).
     */
    record Result(long seed, Path dir, List<DbCrashRun.Cycle> cycles, long expectedAtEnd, long verifiedAtEnd,
                  long partialAtEnd, double elapsedSeconds) {

        long acknowledged() {
            return cycles.stream().mapToLong(DbCrashRun.Cycle::acknowledged).sum();
        }

        long lost() {
            return cycles.stream().mapToLong(DbCrashRun.Cycle::lost).sum() + (expectedAtEnd - verifiedAtEnd);
        }

        long partial() {
            return cycles.stream().mapToLong(DbCrashRun.Cycle::partial).sum() + partialAtEnd;
        }

        long unsyncedLost() {
            return cycles.stream().mapToLong(DbCrashRun.Cycle::unsyncedLost).sum();
        }

        long holes() {
            return cycles.stream().mapToLong(DbCrashRun.Cycle::holes).sum();
        }

        boolean passed() {
            return lost() == 0 && partial() == 0 && holes() == 0;
        }
    }

    @Override
    int run() throws Exception {
        jsonOutput(json);
        Settings s = settings(cycles, writers, durability, killAfter, seed, dir, powerLoss);
        Result r = execute(s, out(), json, keep);
        if (json) {
            printJson(toJson(s, r));
        }
        return r.passed() ? ExitCodes.OK : ExitCodes.TORN_OR_LOST;
    }

    /** Validated options of a run (shared with the demo). */
    record Settings(int cycles, int writers, Mode mode, long killMinMs, long killMaxMs, long seed, Path dir,
                    boolean powerLoss) {
    }

    static Settings settings(int cycles, int writers, Mode mode, String killAfter, Long seed, Path dir,
                             boolean powerLoss) {
        if (cycles < 1 || cycles > 100_000) {
            throw CliException.usage("--cycles must be 1..100000, got " + cycles);
        }
        if (writers < 1 || writers > 64) {
            throw CliException.usage("--writers must be 1..64, got " + writers);
        }
        long[] kill = Lsn.parseRange(killAfter, "--kill-after");
        if (kill[1] > 600_000) {
            throw CliException.usage("--kill-after: at most 600000 ms");
        }
        if (dir != null) {
            DbInspector.Kind kind = DbInspector.classify(dir);
            if (kind == DbInspector.Kind.NOT_A_DIRECTORY || kind == DbInspector.Kind.NOT_A_DATABASE
                    || kind == DbInspector.Kind.DATABASE_WITHOUT_CURRENT) {
                throw new CliException(ExitCodes.DATA, "--dir " + dir + " must be missing, empty, or a Redoubt database");
            }
        }
        return new Settings(cycles, writers, mode, kill[0], kill[1], seed != null ? seed : System.nanoTime(), dir,
                powerLoss);
    }

    static Durability durabilityOf(Mode mode, int cycle) {
        return switch (mode) {
            case SYNC -> Durability.SYNC;
            case ASYNC -> Durability.ASYNC;
            case MIXED -> cycle % 2 == 1 ? Durability.SYNC : Durability.ASYNC;
        };
    }

    /** Runs every cycle, printing the table (unless {@code json}); deletes a temporary directory unless kept. */
    static Result execute(Settings s, PrintWriter out, boolean json, boolean keep) throws IOException, InterruptedException {
        boolean temporary = s.dir() == null;
        Path data = temporary ? Files.createTempDirectory("redoubt-crash-") : s.dir();
        long started = System.nanoTime();
        try {
            if (!json) {
                out.printf("Crash test: %d cycles, %d writer threads, %s writes, kill after %d..%d ms, seed %d%s%n",
                        s.cycles(), s.writers(), s.mode(), s.killMinMs(), s.killMaxMs(), s.seed(),
                        s.powerLoss() ? "; power loss: each kill also loses every byte the child had not fsynced" : "");
                out.printf("data directory: %s%n%n", data);
                out.printf("%5s %-5s %8s %9s %9s %5s %7s %5s %8s %7s %11s %11s %9s%n", "cycle", "mode", "kill ms",
                        "acked", "verified", "lost", "partial", "holes", "unsynced", "flushes", "compactions",
                        "recovery ms", "replayed");
                out.flush();
            }
            Random random = new Random(s.seed());
            DbCrashRun run = new DbCrashRun(data, s.writers(), s.powerLoss());
            List<DbCrashRun.Cycle> results = new ArrayList<>();
            for (int c = 1; c <= s.cycles(); c++) {
                long killAfterMs = s.killMinMs() + (long) (random.nextDouble() * (s.killMaxMs() - s.killMinMs() + 1));
                DbCrashRun.Cycle r = run.run(c, durabilityOf(s.mode(), c), Math.min(killAfterMs, s.killMaxMs()));
                results.add(r);
                if (!json) {
                    out.printf("%5d %-5s %8d %9d %9d %5d %7d %5d %8d %7d %11d %11.1f %9d%n", r.number(),
                            r.durability(), r.killAfterMs(), r.acknowledged(), r.verified(), r.lost(), r.partial(),
                            r.holes(), r.unsyncedLost(), r.flushes(), r.compactions(), r.recoveryMs(),
                            r.recordsReplayed());
                    out.flush();
                }
            }
            long[] all = run.verifyAll();
            Result result = new Result(s.seed(), data, List.copyOf(results), all[0], all[1], all[2],
                    (System.nanoTime() - started) / 1e9);
            if (!json) {
                out.printf("%nSummary: %d cycles in %.1f s; %d batches acknowledged (%d keys), %d lost, %d partial,"
                                + " %d holes; final re-check of every batch that had to survive: %s%n", s.cycles(),
                        result.elapsedSeconds(), result.acknowledged(), 3 * result.acknowledged(), result.lost(),
                        result.partial(), result.holes(), all[0] == all[1] && all[2] == 0 ? "all present" : "FAILED");
                if (s.powerLoss()) {
                    out.printf("Power loss: %d ASYNC batches were acknowledged but not yet fsynced when their child"
                            + " died, and were lost as allowed (each writer's survivors gap-free).%n",
                            result.unsyncedLost());
                }
                if (!result.passed()) {
                    out.printf("FAILED: replay with --seed %d%n", s.seed());
                }
                out.flush();
            }
            return result;
        } finally {
            if (temporary && !keep) {
                DirectoryTrees.deleteTree(data);
            }
        }
    }

    static Json toJson(Settings s, Result r) {
        List<Object> cycles = Json.array();
        for (DbCrashRun.Cycle c : r.cycles()) {
            cycles.add(Json.object().put("cycle", c.number()).put("durability", c.durability())
                    .put("killAfterMs", c.killAfterMs()).put("acknowledged", c.acknowledged())
                    .put("verified", c.verified()).put("lost", c.lost()).put("partial", c.partial())
                    .put("flushes", c.flushes()).put("compactions", c.compactions()).put("recoveryMs", c.recoveryMs())
                    .put("recordsReplayed", c.recordsReplayed()).put("tornBytes", c.tornBytes())
                    .put("survived", c.survived()).put("unsyncedLost", c.unsyncedLost()).put("holes", c.holes()));
        }
        return Json.object().put("command", "crash-test").put("seed", r.seed()).put("dir", r.dir().toString())
                .put("writers", s.writers()).put("durability", s.mode()).put("killAfterMinMs", s.killMinMs())
                .put("killAfterMaxMs", s.killMaxMs()).put("cycles", cycles)
                .put("summary", Json.object().put("cycles", r.cycles().size()).put("acknowledged", r.acknowledged())
                        .put("verifiedAtEnd", r.verifiedAtEnd()).put("lost", r.lost()).put("partial", r.partial())
                        .put("passed", r.passed()).put("elapsedSeconds", r.elapsedSeconds())
                        .put("unsyncedLost", r.unsyncedLost()).put("holes", r.holes()).put("expectedAtEnd", r.expectedAtEnd()))
                .put("powerLoss", s.powerLoss());
    }
}
