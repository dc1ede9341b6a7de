package dev.redoubt.replication.raft;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A network lab for process tests (Linux, root, iproute2): one network namespace per member, each joined by a
 * veth pair to a Linux bridge in the root namespace. Member {@code i} has {@code 10.213.X.(i+1)/24} in its
 * namespace; the bridge has {@code 10.213.X.254}, so processes in the root namespace (the test's clients) reach
 * every member through it. {@code X} is random among the /24s no local address or route uses, and every name
 * carries a random suffix, so parallel labs do not collide.
 *
 * <p>A cut is a {@code blackhole} route for the other end's /32 in a member's namespace: its packets to that
 * address are dropped (local senders get {@code EINVAL}), packets to everyone else flow. A symmetric cut of link
 * i–j puts the route in both namespaces; a one-way cut only in the sender's (for TCP this still stops the
 * connections between the two, as the receiver's ACKs are dropped, but only one side fails fast: the other
 * side's sends go unanswered). The client link of a member is cut the same way (a route to the bridge address
 * in its namespace). {@link #close()} deletes everything, also from a JVM shutdown hook if the test does not
 * get there; a SIGKILLed test JVM leaves namespaces named {@code rdt-<suffix>-n<i>} and a bridge {@code rdb<suffix>}
 * behind ({@code ip netns del}, {@code ip link del}).
 */
final class NetnsLab implements AutoCloseable {
    private static final String SUBNET_PREFIX = "10.213.";
    private static final int HOST_OCTET = 254;
    private static String unavailable;
    private static boolean probed;

    private final String suffix;
    private final int subnet;
    private final int members;
    private final String bridge;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> hostVeths = new ArrayList<>();
    /** Active blackhole routes: "i>address", the namespace of member i dropping what it sends to address. */
    private final Set<String> routes = new LinkedHashSet<>();
    private final Thread shutdownHook;
    private boolean closed;

    private NetnsLab(String suffix, int subnet, int members) {
        this.suffix = suffix;
        this.subnet = subnet;
        this.members = members;
        this.bridge = "rdb" + suffix;
        this.shutdownHook = new Thread(this::closeQuietly, "netns-lab-cleanup-" + suffix);
    }

    /**
     * Null when a lab can be built here; otherwise why not (not Linux, not root, no {@code ip}, or
     * {@code ip netns add} refused). Probes once per JVM by adding and deleting a namespace.
     */
    static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            unavailable = probe();
        }
        return unavailable;
    }

    private static String probe() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return "network namespaces need Linux, this is " + System.getProperty("os.name");
        }
        try {
            String uid = run(List.of("id", "-u")).trim();
            if (!uid.equals("0")) {
                return "network namespaces need root, running as uid " + uid;
            }
            String probe = "rdt-probe-" + randomSuffix();
            run(List.of("ip", "netns", "add", probe));
            try {
                run(List.of("ip", "netns", "exec", probe, "ip", "link", "set", "lo", "up"));
            } finally {
                run(List.of("ip", "netns", "del", probe));
            }
            return null;
        } catch (IOException e) {
            return "cannot make a network namespace here: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while probing ip netns";
        }
    }

    /** Builds a lab of {@code members} namespaces; on any failure, deletes what it made and throws. */
    static NetnsLab create(int members) throws IOException, InterruptedException {
        if (members < 1 || members > 200) {
            throw new IllegalArgumentException("members: " + members);
        }
        NetnsLab lab = new NetnsLab(randomSuffix(), freeSubnet(), members);
        Runtime.getRuntime().addShutdownHook(lab.shutdownHook);
        try {
            lab.build();
            return lab;
        } catch (IOException | InterruptedException | RuntimeException e) {
            try {
                lab.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void build() throws IOException, InterruptedException {
        run(List.of("ip", "link", "add", bridge, "type", "bridge"));
        run(List.of("ip", "addr", "add", hostAddress() + "/24", "dev", bridge));
        run(List.of("ip", "link", "set", bridge, "up"));
        for (int i = 0; i < members; i++) {
            String ns = "rdt-" + suffix + "-n" + i;
            run(List.of("ip", "netns", "add", ns));
            namespaces.add(ns);
            String hostEnd = "rdv" + suffix + "h" + i;
            String memberEnd = "rdv" + suffix + "m" + i;
            run(List.of("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", memberEnd, "netns", ns));
            hostVeths.add(hostEnd);
            run(List.of("ip", "link", "set", hostEnd, "master", bridge));
            run(List.of("ip", "link", "set", hostEnd, "up"));
            inNamespace(i, "ip", "link", "set", "lo", "up");
            inNamespace(i, "ip", "addr", "add", address(i) + "/24", "dev", memberEnd);
            inNamespace(i, "ip", "link", "set", memberEnd, "up");
        }
    }

    /** Member {@code i}'s address (in its namespace). */
    String address(int i) {
        return SUBNET_PREFIX + subnet + "." + (i + 1);
    }

    /** The bridge's address: where the root namespace's processes (the clients) come from. */
    String hostAddress() {
        return SUBNET_PREFIX + subnet + "." + HOST_OCTET;
    }

    String namespace(int i) {
        return namespaces.get(i);
    }

    /** The command prefix that runs a command in member {@code i}'s namespace. */
    List<String> execPrefix(int i) {
        return List.of("ip", "netns", "exec", namespace(i));
    }

    /** Cuts the link between members {@code i} and {@code j} in both directions. */
    synchronized void cut(int i, int j) throws IOException, InterruptedException {
        cutOneWay(i, j);
        cutOneWay(j, i);
    }

    /** Heals the link between {@code i} and {@code j} in both directions (whichever were cut). */
    synchronized void heal(int i, int j) throws IOException, InterruptedException {
        healOneWay(i, j);
        healOneWay(j, i);
    }

    /** Drops what member {@code from} sends to member {@code to} (see the class comment for what TCP makes of it). */
    synchronized void cutOneWay(int from, int to) throws IOException, InterruptedException {
        checkMember(to);
        addBlackhole(from, address(to));
    }

    synchronized void healOneWay(int from, int to) throws IOException, InterruptedException {
        checkMember(to);
        removeBlackhole(from, address(to));
    }

    /** Cuts member {@code i} off from the root namespace (the clients), both directions for TCP. */
    synchronized void cutFromHost(int i) throws IOException, InterruptedException {
        addBlackhole(i, hostAddress());
    }

    synchronized void healFromHost(int i) throws IOException, InterruptedException {
        removeBlackhole(i, hostAddress());
    }

    /** Removes every cut. */
    synchronized void healAll() throws IOException, InterruptedException {
        for (String route : List.copyOf(routes)) {
            int at = route.indexOf('>');
            removeBlackhole(Integer.parseInt(route.substring(0, at)), route.substring(at + 1));
        }
    }

    /** The cuts in force, as "i>address". */
    synchronized List<String> cuts() {
        return List.copyOf(routes);
    }

    private void addBlackhole(int member, String address) throws IOException, InterruptedException {
        checkMember(member);
        if (routes.add(member + ">" + address)) {
            inNamespace(member, "ip", "route", "add", "blackhole", address + "/32");
        }
    }

    private void removeBlackhole(int member, String address) throws IOException, InterruptedException {
        checkMember(member);
        if (routes.contains(member + ">" + address)) {
            inNamespace(member, "ip", "route", "del", "blackhole", address + "/32");
            routes.remove(member + ">" + address);
        }
    }

    private void checkMember(int i) {
        if (i < 0 || i >= namespaces.size()) {
            throw new IllegalArgumentException("no member " + i + " in a lab of " + namespaces.size());
        }
    }

    private void inNamespace(int i, String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(execPrefix(i));
        full.addAll(List.of(command));
        run(full);
    }

    /** Deletes the bridge, the veth pairs and the namespaces; tries every step, then throws what failed. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: this is the hook
        }
        IOException failures = null;
        List<List<String>> steps = new ArrayList<>();
        for (String veth : hostVeths) {
            steps.add(List.of("ip", "link", "del", veth));
        }
        for (String ns : namespaces) {
            steps.add(List.of("ip", "netns", "del", ns));
        }
        if (bridgeExists()) {
            steps.add(List.of("ip", "link", "del", bridge));
        }
        for (List<String> step : steps) {
            try {
                run(step);
            } catch (IOException e) {
                if (failures == null) {
                    failures = new IOException("cleaning up network lab " + suffix + " failed");
                }
                failures.addSuppressed(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted cleaning up network lab " + suffix, e);
            }
        }
        routes.clear();
        if (failures != null) {
            throw failures;
        }
    }

    private boolean bridgeExists() {
        try {
            run(List.of("ip", "link", "show", bridge));
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            System.err.println("NetnsLab: " + e.getMessage());
            for (Throwable s : e.getSuppressed()) {
                System.err.println("  " + s.getMessage());
            }
        }
    }

    /** A third octet whose 10.213.X.0/24 no local address or route mentions. */
    private static int freeSubnet() throws IOException, InterruptedException {
        String inUse = run(List.of("ip", "-o", "-4", "addr", "show"))
                + run(List.of("ip", "-4", "route", "show", "table", "all"));
        SecureRandom random = new SecureRandom();
        for (int attempt = 0; attempt < 100; attempt++) {
            int x = 1 + random.nextInt(250);
            if (!inUse.contains(SUBNET_PREFIX + x + ".")) {
                return x;
            }
        }
        throw new IOException("no free 10.213.X.0/24 subnet found");
    }

    private static String randomSuffix() {
        byte[] b = new byte[3];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Runs a command; returns its stdout, throws with its exit status and stderr if it fails. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String stdout = readAll(p.getInputStream());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": no exit within 30 s");
        }
        String err;
        try {
            err = stderr.get(5, TimeUnit.SECONDS).trim();
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            err = "(stderr unreadable: " + e + ")";
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + ": exit " + p.exitValue()
                    + (err.isEmpty() ? "" : ": " + err));
        }
        return stdout;
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
