package dev.redoubt.tool;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code redoubt}: the operator's command for a Redoubt data directory. */
@Command(name = "redoubt", mixinStandardHelpOptions = true, versionProvider = RedoubtCli.Version.class,
        description = "Inspect, verify, recover, repair and crash-test a Redoubt data directory.",
        subcommands = {DemoCommand.class, CrashTestCommand.class, DbCommand.class, WalCommand.class,
            SstCommand.class, KvCommand.class, NodeCommand.class, RaftAdminCommand.class, RedoubtCli.Completion.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes (every command):%n",
        footer = {
            "  0   ok: done, nothing wrong found",
            "  1   dropped or lost: a torn WAL tail, bytes a recovery dropped, a write",
            "      a crash test lost, data a repair could not keep",
            "  2   corruption: damage recovery refuses to drop, a bad checksum, an",
            "      inconsistent manifest",
            "  3   kv get: the key is absent",
            "  64  usage: unknown option, malformed LSN/key/range, conflicting options",
            "  65  not a Redoubt database (or WAL segment, SSTable), or a state the",
            "      command cannot act on",
            "  66  no such file or directory",
            "  70  internal error (a bug; --verbose prints the stack trace)",
            "  74  I/O error: an unreadable file, a full disk",
            "  75  the database is locked by a live process",
            "",
            "LSNs are decimal byte positions in the log (e.g. 1048576)."})
public final class RedoubtCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces and the engine's log messages.")
    boolean verbose;

    @Option(names = "--no-progress", scope = ScopeType.INHERIT,
            description = "Never draw a progress bar (they are drawn on stderr only when stdout is a terminal).")
    boolean noProgress;

    @Option(names = "--progress", scope = ScopeType.INHERIT, hidden = true,
            description = "Draw progress bars even when stdout is not a terminal.")
    boolean forceProgress;

    /** Set by a command whose output is JSON: progress bars stay off. */
    boolean jsonOutput;

    /**
     * Ratis' shaded gRPC logs through java.util.logging (an INFO line per connection on stderr); held here
     * because java.util.logging keeps loggers only weakly.
     */
    private static final java.util.logging.Logger GRPC_LOG =
            java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc");

    public static void main(String[] args) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
        GRPC_LOG.setLevel(verbose ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for the launcher and for in-process tests. */
    public static CommandLine commandLine() {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        CommandLine cli = new CommandLine(new RedoubtCli());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        Version version = new Version();
        applyToAll(cli, c -> c.getCommandSpec().versionProvider(version));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            RedoubtCli root = (RedoubtCli) commandLine.getCommandSpec().root().userObject();
            commandLine.getErr().println("redoubt: " + ExitCodes.message(e));
            if (root.verbose) {
                e.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return ExitCodes.of(e);
        });
        cli.setParameterExceptionHandler((e, args) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println("redoubt: " + e.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            c.getErr().flush();
            return ExitCodes.USAGE;
        });
        return cli;
    }

    private static void applyToAll(CommandLine c, java.util.function.Consumer<CommandLine> action) {
        action.accept(c);
        for (CommandLine sub : c.getSubcommands().values()) {
            applyToAll(sub, action);
        }
    }

    boolean progressEnabled() {
        return !noProgress && !jsonOutput && (forceProgress || System.console() != null);
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

    /** {@code redoubt completion}: the bash (and zsh) completion script. */
    @Command(name = "completion", mixinStandardHelpOptions = true,
            description = {"Print a bash/zsh completion script for redoubt.",
                "Install: source <(redoubt completion)   or   redoubt completion > /etc/bash_completion.d/redoubt"})
    static final class Completion implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(AutoComplete.bash("redoubt", spec.root().commandLine()));
            spec.commandLine().getOut().flush();
            return ExitCodes.OK;
        }
    }
}
