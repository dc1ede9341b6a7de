package dev.redoubt.replication;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A {@link NodeMain} child JVM: started, addressed by its port, SIGKILLed. */
final class NodeProcess implements AutoCloseable {
    final Process process;
    final int port;
    final Path dir;

    private NodeProcess(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    static NodeProcess start(Path dir, Node.Role role, Integer primaryPort, Path secretFile, int segmentBytes)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (String flag : System.getProperty("redoubt.jvm.flags", "").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.addAll(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), NodeMain.class.getName(), dir.toString(),
                role.name(), primaryPort == null ? "-" : primaryPort.toString(), secretFile.toString(),
                Integer.toString(segmentBytes)));
        Process p = new ProcessBuilder(command).redirectError(dir.resolveSibling(dir.getFileName() + ".stderr").toFile()).start();
        CompletableFuture<Integer> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("READY ")) {
                        ready.complete(Integer.parseInt(line.substring(6).trim()));
                    }
                }
                ready.completeExceptionally(new IOException("the node exited before it was ready"));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "node-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            return new NodeProcess(p, ready.get(60, TimeUnit.SECONDS), dir);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            p.destroyForcibly().waitFor();
            throw new IOException("node in " + dir + " did not start: " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** SIGKILL, and wait until the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
