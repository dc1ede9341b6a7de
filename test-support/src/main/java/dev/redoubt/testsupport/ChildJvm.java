package dev.redoubt.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A child JVM for process tests (crash tests, node and Raft member processes): started with this JVM's java,
 * the pom's JVM flags ({@code redoubt.jvm.flags}) and class path; its stdout read line by line on a daemon thread;
 * started once it printed its ready line. The one way the tests start a child and wait for it.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** {@code java <pom flags> <jvmArgs> -cp <this class path> <mainClass> <args>}. */
    public static List<String> javaCommand(List<String> jvmArgs, String mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (String flag : System.getProperty("redoubt.jvm.flags", "").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        return command;
    }

    /** A started child and what its ready line said. */
    public record Started<T>(Process process, T ready) {
    }

    /**
     * Starts {@code builder}'s command; every stdout line goes to {@code onLine} (on the reader thread), and the
     * first one for which {@code readyLine} returns non-null makes this return it. If the child exits first, or
     * is not ready within {@code timeout}, it is killed and an {@link IOException} names {@code what}.
     */
    public static <T> Started<T> start(ProcessBuilder builder, Function<String, T> readyLine, Consumer<String> onLine,
                                       Duration timeout, String what) throws IOException, InterruptedException {
        Process p = builder.start();
        CompletableFuture<T> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    onLine.accept(line);
                    if (!ready.isDone()) {
                        T value = readyLine.apply(line);
                        if (value != null) {
                            ready.complete(value);
                        }
                    }
                }
                ready.completeExceptionally(new IOException(what + " exited before it was ready"));
            } catch (IOException | RuntimeException e) {
                ready.completeExceptionally(e);
            }
        }, "child-stdout-" + what);
        reader.setDaemon(true);
        reader.start();
        try {
            return new Started<>(p, ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly().waitFor();
            throw new IOException(what + " did not start: " + (e instanceof ExecutionException ? e.getCause() : e), e);
        }
    }
}
