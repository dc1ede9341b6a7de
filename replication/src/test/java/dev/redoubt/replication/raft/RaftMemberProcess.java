package dev.redoubt.replication.raft;

import dev.redoubt.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** A {@link RaftMemberMain} child JVM: started, SIGKILLed, restarted on the same directory. */
final class RaftMemberProcess implements AutoCloseable {
    /** Over every start: entries the engine lacked below the Raft commit index (Ratis replayed them). */
    static final java.util.concurrent.atomic.AtomicLong ENTRIES_REPLAYED = new java.util.concurrent.atomic.AtomicLong();
    /** Over every start: how many found the engine behind the Raft log's commit index. */
    static final java.util.concurrent.atomic.AtomicLong RESTARTS_WITH_ENGINE_BEHIND = new java.util.concurrent.atomic.AtomicLong();
    /** Over every start: members that stopped on their own ({@code STOPPED} lines), as "id: why". */
    static final List<String> STOPPED_ON_THEIR_OWN = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Process process;
    private final Path dir;

    private RaftMemberProcess(Process process, Path dir) {
        this.process = process;
        this.dir = dir;
    }

    /** Starts member {@code id} of {@code peers} on {@code dir}, its gRPC server on {@code listenPort}; waits for READY. */
    static RaftMemberProcess start(Path dir, String id, List<RaftGroupNode.Peer> peers, int listenPort)
            throws IOException, InterruptedException {
        return start(dir, id, peers, listenPort, List.of(), null);
    }

    /**
     * As above, the JVM started behind {@code commandPrefix} (e.g. {@code ip netns exec NS}, which execs it, so
     * the process is the JVM and {@link #kill()} SIGKILLs the member) and authenticated with the group credential
     * in {@code tlsDir} (null: none, loopback addresses only).
     */
    static RaftMemberProcess start(Path dir, String id, List<RaftGroupNode.Peer> peers, int listenPort,
                                   List<String> commandPrefix, Path tlsDir) throws IOException, InterruptedException {
        String spec = peers.stream().map(p -> p.id() + "@" + p.address().getHostString() + ":" + p.address().getPort())
                .collect(Collectors.joining(","));
        List<String> args = new ArrayList<>(List.of(dir.toString(), id, spec, Integer.toString(listenPort)));
        if (tlsDir != null) {
            args.add(tlsDir.toString());
        }
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(ChildJvm.javaCommand(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                // our own lines (engine recovery, snapshots taken and installed) explain a failed run
                "-Dorg.slf4j.simpleLogger.log.dev.redoubt=info",
                // Ratis' own info lines (elections, leader changes, snapshot installs, log trims) likewise
                "-Dorg.slf4j.simpleLogger.log.org.apache.ratis=info",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-D" + RaftMemberMain.READS_PROPERTY + "=" + System.getProperty(RaftMemberMain.READS_PROPERTY,
                        RaftReadMode.READ_INDEX.cliName())), RaftMemberMain.class.getName(), args));
        java.nio.file.Files.createDirectories(dir);
        ChildJvm.Started<Boolean> started = ChildJvm.start(new ProcessBuilder(command)
                        .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolveSibling(id + ".stderr").toFile())),
                line -> line.equals("READY") ? Boolean.TRUE : null, line -> {
                    if (line.startsWith("RECOVERED ")) {
                        String[] f = line.split(" ");
                        long lost = Long.parseLong(f[2]) - Long.parseLong(f[1]);
                        if (lost > 0) {
                            ENTRIES_REPLAYED.addAndGet(lost);
                            RESTARTS_WITH_ENGINE_BEHIND.incrementAndGet();
                        }
                    }
                    if (line.startsWith("STOPPED ")) {
                        STOPPED_ON_THEIR_OWN.add(id + ": " + line.substring("STOPPED ".length()));
                    }
                }, Duration.ofSeconds(60), "member " + id + " in " + dir + " (see " + id + ".stderr beside it)");
        return new RaftMemberProcess(started.process(), dir);
    }

    /**
     * Writes the member's thread dump ({@code jcmd PID Thread.print}) beside its directory as
     * {@code <dir name>.threads}, for a run that failed; returns where, or why it could not.
     */
    String dumpThreads() {
        Path out = dir.resolveSibling(dir.getFileName() + ".threads");
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElse("java")).resolveSibling("jcmd");
        try {
            Process dump = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "Thread.print")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!dump.waitFor(60, TimeUnit.SECONDS)) {
                dump.destroyForcibly();
                return "jcmd timed out for " + out;
            }
            return out.toString();
        } catch (IOException e) {
            return "no thread dump (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "no thread dump (interrupted)";
        }
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
