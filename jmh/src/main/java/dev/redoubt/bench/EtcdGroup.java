package dev.redoubt.bench;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A 3-member etcd group on loopback, the peer of the Raft benchmark: three {@code etcd} processes (the binary on
 * {@code PATH}; Debian's {@code etcd-server}, 3.4), named {@code e0}, {@code e1}, {@code e2}, each started with
 *
 * <pre>
 *   --name eN --data-dir DIR/eN
 *   --listen-client-urls http://127.0.0.1:C --advertise-client-urls http://127.0.0.1:C
 *   --listen-peer-urls http://127.0.0.1:P --initial-advertise-peer-urls http://127.0.0.1:P
 *   --initial-cluster e0=http://127.0.0.1:P0,e1=...,e2=... --initial-cluster-token redoubt-bench
 *   --initial-cluster-state new
 * </pre>
 *
 * with free ports C and P, its stdout and stderr appended to {@code DIR/eN.log}, and etcd's defaults for
 * everything else: the WAL is fsynced on every commit (no {@code --unsafe-no-fsync}), default heartbeat, election
 * timeout, snapshot count and backend quota, so that it is a fair peer. {@link #start} returns once every member
 * answers {@code /health} with {@code true} (which needs an elected leader and a quorum). {@code DIR} should be
 * fresh: a member whose data dir already holds a group ignores the {@code --initial-cluster} flags.
 *
 * <p>{@link #close()} stops the members ({@code SIGTERM}, then {@code SIGKILL} after {@value #STOP_SECONDS} s) and
 * deletes nothing: the caller owns {@code DIR}.
 */
public final class EtcdGroup implements AutoCloseable {
    static final List<String> NAMES = List.of("e0", "e1", "e2");
    private static final String BINARY = "etcd";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final int STOP_SECONDS = 5;

    private final List<Process> processes = new ArrayList<>();
    private final List<String> endpoints = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    /** Stops the members if the JVM exits without {@link #close()} (etcd would outlive it). */
    private final Thread shutdownHook = new Thread(this::killAll, "etcd-group-shutdown");

    private EtcdGroup() {
    }

    /** Starts the group with its data dirs and logs in {@code dir}; waits until it answers. */
    public static EtcdGroup start(Path dir) throws IOException, InterruptedException {
        String etcd = findBinary();
        Files.createDirectories(dir);
        int[] ports = freeLoopbackPorts(2 * NAMES.size());
        List<String> peerUrls = new ArrayList<>();
        for (int i = 0; i < NAMES.size(); i++) {
            peerUrls.add("http://127.0.0.1:" + ports[2 * i + 1]);
        }
        String initialCluster = NAMES.stream().map(n -> n + "=" + peerUrls.get(NAMES.indexOf(n)))
                .collect(Collectors.joining(","));
        EtcdGroup group = new EtcdGroup();
        Runtime.getRuntime().addShutdownHook(group.shutdownHook);
        try {
            for (int i = 0; i < NAMES.size(); i++) {
                String name = NAMES.get(i);
                String clientUrl = "http://127.0.0.1:" + ports[2 * i];
                Path log = dir.resolve(name + ".log");
                List<String> command = List.of(etcd,
                        "--name", name,
                        "--data-dir", dir.resolve(name).toString(),
                        "--listen-client-urls", clientUrl,
                        "--advertise-client-urls", clientUrl,
                        "--listen-peer-urls", peerUrls.get(i),
                        "--initial-advertise-peer-urls", peerUrls.get(i),
                        "--initial-cluster", initialCluster,
                        "--initial-cluster-token", "redoubt-bench",
                        "--initial-cluster-state", "new");
                ProcessBuilder.Redirect toLog = ProcessBuilder.Redirect.appendTo(log.toFile());
                group.processes.add(new ProcessBuilder(command).redirectOutput(toLog).redirectError(toLog).start());
                group.endpoints.add(clientUrl);
                group.logs.add(log);
            }
            group.awaitHealthy();
            return group;
        } catch (IOException | InterruptedException | RuntimeException e) {
            group.close();
            throw e;
        }
    }

    /** The members' client URLs ({@code http://127.0.0.1:PORT}), in member order. */
    public List<String> endpoints() {
        return List.copyOf(endpoints);
    }

    /** Polls every member's {@code /health} (every 100 ms) until all say {@code true}; fails at once if one exits. */
    private void awaitHealthy() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (int i = 0; i < processes.size(); i++) {
            HttpRequest health = HttpRequest.newBuilder(URI.create(endpoints.get(i) + "/health"))
                    .timeout(Duration.ofSeconds(2)).build();
            while (true) {
                Process p = processes.get(i);
                if (!p.isAlive()) {
                    throw new IOException("etcd member " + NAMES.get(i) + " exited with code " + p.exitValue()
                            + " before the group was ready (its log: " + logs.get(i) + ")");
                }
                try {
                    HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && r.body().replace(" ", "").contains("\"health\":\"true\"")) {
                        break;
                    }
                } catch (IOException notYet) {
                    // not listening yet, or no leader yet: ask again
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("etcd member " + NAMES.get(i) + " did not report itself healthy within "
                            + READY_TIMEOUT.toSeconds() + " s (its log: " + logs.get(i) + ")");
                }
                Thread.sleep(100);
            }
        }
    }

    /** Stops all three: {@code SIGTERM}, up to {@value #STOP_SECONDS} s for all, then {@code SIGKILL}. */
    @Override
    public void close() throws InterruptedIOException {
        for (Process p : processes) {
            p.destroy();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
        try {
            for (Process p : processes) {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly().waitFor(STOP_SECONDS, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            killAll();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping the etcd group");
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs, or has run, anyway
        }
    }

    private void killAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }

    /** The {@code etcd} executable on {@code PATH}. */
    private static String findBinary() throws IOException {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (!d.isEmpty()) {
                    Path candidate = Path.of(d, BINARY);
                    if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                        return candidate.toString();
                    }
                }
            }
        }
        throw new IOException("no '" + BINARY + "' executable on PATH: install it with apt-get install -y etcd-server"
                + " (etcd 3.4)");
    }

    /** {@code n} distinct free ports on loopback (all held open at once, so that no two are the same). */
    private static int[] freeLoopbackPorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }
}
