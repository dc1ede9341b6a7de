package dev.redoubt.tool;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** What every leaf command shares: its spec, stdout and stderr, and the root's global options. */
abstract class ToolCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    RedoubtCli cli() {
        return (RedoubtCli) spec.root().userObject();
    }

    /** Marks the output as JSON (no progress bars) when {@code json} is set. */
    void jsonOutput(boolean json) {
        if (json) {
            cli().jsonOutput = true;
        }
    }

    void printJson(Json json) {
        out().println(json);
        out().flush();
    }

    @Override
    public final Integer call() throws Exception {
        try {
            return run();
        } finally {
            out().flush();
            err().flush();
        }
    }

    abstract int run() throws Exception;
}
