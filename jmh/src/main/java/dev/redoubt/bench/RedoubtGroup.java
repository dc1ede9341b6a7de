package dev.redoubt.bench;

import dev.redoubt.replication.raft.RaftAdmin;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftReadMode;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The Redoubt side of the Raft benchmark: a 3-member group on loopback, each member a child JVM
 * ({@code RaftHarness --member DIR ID PEERS READS}, {@link RaftGroupNode} with default options but for the read mode) with the pom's JVM
 * flags ({@link JvmFlags#POM_FLAGS}), a 1 GiB heap, its data in {@code DIR/mN} and its stderr appended to
 * {@code DIR/mN.stderr}. {@link #start} returns once every member printed {@code READY} and one is leader;
 * {@link #kill} ends one with {@code SIGKILL} and {@link #restart} starts it again on the same directory.
 *
 * <p>{@link #close()} kills the members that are left and deletes nothing: the caller owns {@code DIR}. A
 * shutdown hook kills them too if the JVM exits without it.
 */
final class RedoubtGroup implements AutoCloseable {
    private static final int SIZE = 3;
    private static final long READY_SECONDS = 60;

    private final Path dir;
    private final List<RaftGroupNode.Peer> peers;
    private final RaftReadMode reads;
    private final Process[] members = new Process[SIZE];
    private final Thread shutdownHook = new Thread(this::killAll, "redoubt-group-shutdown");

    private RedoubtGroup(Path dir, List<RaftGroupNode.Peer> peers, RaftReadMode reads) {
        this.dir = dir;
        this.peers = peers;
        this.reads = reads;
    }

    /**
     * Starts the three members, with their data in {@code dir}, answering linearizable reads as {@code reads}
     * says; waits until each is up.
     */
    static RedoubtGroup start(Path dir, RaftReadMode reads) throws IOException, InterruptedException {
        List<RaftGroupNode.Peer> peers = new ArrayList<>();
        for (int i = 0; i < SIZE; i++) {
            peers.add(new RaftGroupNode.Peer("m" + i, new InetSocketAddress("127.0.0.1", freePort())));
        }
        RedoubtGroup group = new RedoubtGroup(dir, List.copyOf(peers), reads);
        Runtime.getRuntime().addShutdownHook(group.shutdownHook);
        try {
            for (int i = 0; i < SIZE; i++) {
                group.restart(i);
            }
            group.awaitLeader(-1, -1);
            return group;
        } catch (IOException | InterruptedException | RuntimeException e) {
            group.close();
            throw e;
        }
    }

    /**
     * Polls the members (every 5 ms) until one other than {@code exclude} reports itself leader in a term above
     * {@code aboveTerm}; returns its position. Gives up after a minute.
     */
    int awaitLeader(int exclude, long aboveTerm) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
            while (System.nanoTime() < deadline) {
                List<RaftAdmin.Member> status = admin.status();
                for (int i = 0; i < status.size(); i++) {
                    RaftAdmin.Member m = status.get(i);
                    if (i != exclude && "LEADER".equals(m.role()) && m.term() > aboveTerm) {
                        return i;
                    }
                }
                Thread.sleep(5);
            }
        }
        throw new IllegalStateException("no leader elected within a minute");
    }

    List<RaftGroupNode.Peer> peers() {
        return peers;
    }

    /** Kills member {@code i} ({@code SIGKILL}) and waits until it is gone. */
    void kill(int i) throws InterruptedException {
        Process p = members[i];
        if (p != null) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            members[i] = null;
        }
    }

    /** Starts member {@code i} (again) on its directory; returns once it printed {@code READY}. */
    void restart(int i) throws IOException, InterruptedException {
        if (members[i] != null) {
            throw new IllegalStateException("member m" + i + " is running");
        }
        String id = peers.get(i).id();
        Path data = dir.resolve(id);
        Path stderr = dir.resolve(id + ".stderr");
        Files.createDirectories(data);
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(JvmFlags.POM_FLAGS);
        String spec = peers.stream().map(p -> p.id() + "@127.0.0.1:" + p.address().getPort())
                .collect(Collectors.joining(","));
        command.addAll(List.of("-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp",
                System.getProperty("java.class.path"), RaftHarness.class.getName(), "--member", data.toString(), id,
                spec, reads.cliName()));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()))
                .start();
        members[i] = p;
        try {
            awaitReady(p, id).get(READY_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            kill(i);
            throw new IOException("member " + id + " did not start within " + READY_SECONDS + " s (its stderr: "
                    + stderr + ")", e);
        }
    }

    /** Completes when the member prints {@code READY}, exceptionally when it exits first. */
    private static CompletableFuture<Void> awaitReady(Process p, String id) {
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = p.inputReader(StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("READY")) {
                        ready.complete(null);
                    }
                }
                ready.completeExceptionally(new IOException("member " + id + " exited before it was ready"));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "member-" + id);
        reader.setDaemon(true);
        reader.start();
        return ready;
    }

    @Override
    public void close() throws InterruptedException {
        for (int i = 0; i < SIZE; i++) {
            kill(i);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs, or has run, anyway
        }
    }

    private void killAll() {
        for (Process p : members) {
            if (p != null) {
                p.destroyForcibly();
            }
        }
    }

    /** A free loopback port (the bench harnesses' members need their addresses before they listen). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
