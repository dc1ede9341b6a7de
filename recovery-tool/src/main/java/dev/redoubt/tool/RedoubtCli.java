package dev.redoubt.tool;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code redoubt}: the operator's command for a Redoubt data directory. */
@Command(name = "redoubt", mixinStandardHelpOptions = true, versionProvider = RedoubtCli.Version.class,
        description = "Inspect, verify, recover and crash-test a Redoubt data directory.",
        subcommands = {DemoCommand.class, WalCommand.class, CommandLine.HelpCommand.class})
public final class RedoubtCli implements Runnable {
    /** Exit code: bad input or usage (picocli's convention). */
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for the launcher and for in-process tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new RedoubtCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("redoubt: " + e.getMessage());
            return 1;
        });
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Version from the jar manifest (the Maven project version). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RedoubtCli.class.getPackage().getImplementationVersion();
            return new String[] {"redoubt " + (v == null ? "(development build)" : v),
                    "Java " + System.getProperty("java.version")};
        }
    }
}
