package dev.redoubt.bench;

import java.util.Arrays;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.ProfilerConfig;

/** The command-line handling the runners ({@link WalBenchmarks}, {@link DbBenchmarks}) share. */
final class BenchCommandLine {
    private BenchCommandLine() {
    }

    /**
     * JMH's options from {@code args}, or null when JMH's own main handled them (help and listings). A parse
     * error exits with status 1.
     */
    static CommandLineOptions parse(String[] args) throws Exception {
        CommandLineOptions cmd;
        try {
            cmd = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("Error parsing command line: " + e.getMessage());
            System.exit(1);
            return null;
        }
        if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers()
                || cmd.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return null;
        }
        return cmd;
    }

    /** Options from the command line, running {@code defaultInclude} when no benchmark regex was given. */
    static ChainedOptionsBuilder options(CommandLineOptions cmd, String defaultInclude) {
        String pomFlags = System.getProperty("redoubt.jvm.flags");
        if (pomFlags != null) {
            String drift = JvmFlags.driftFrom(pomFlags);
            if (drift != null) {
                System.err.println("WARNING: " + drift
                        + "\n  The forks run with JvmFlags (BenchmarkDefaults' @Fork): update JvmFlags to match.");
            }
        }
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cmd);
        if (cmd.getIncludes().isEmpty()) {
            options.include(defaultInclude);
        }
        return options;
    }

    /** Whether the command line already asks for a profiler by any of these names. */
    static boolean profilerRequested(CommandLineOptions cmd, String... names) {
        return cmd.getProfilers().stream().map(ProfilerConfig::getKlass).anyMatch(Arrays.asList(names)::contains);
    }
}
