package dev.redoubt.replication;

import dev.redoubt.testsupport.ChildJvm;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
        List<String> command = ChildJvm.javaCommand(
                List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"),
                NodeMain.class.getName(), List.of(dir.toString(), role.name(),
                        primaryPort == null ? "-" : primaryPort.toString(), secretFile.toString(),
                        Integer.toString(segmentBytes)));
        ChildJvm.Started<Integer> started = ChildJvm.start(new ProcessBuilder(command)
                        .redirectError(dir.resolveSibling(dir.getFileName() + ".stderr").toFile()),
                line -> line.startsWith("READY ") ? Integer.parseInt(line.substring(6).trim()) : null, line -> { },
                Duration.ofSeconds(60), "node in " + dir);
        return new NodeProcess(started.process(), started.ready(), dir);
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
