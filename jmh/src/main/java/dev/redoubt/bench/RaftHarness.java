package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftKvClient;
import dev.redoubt.replication.raft.RaftReadMode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * The Raft benchmarks of issue 7, with etcd 3.4 as the peer, as a harness rather than JMH (each figure needs
 * live 3-member groups, and the election figure kills member processes). In one run on one machine and disk:
 * a Redoubt group of three member JVMs ({@link RedoubtGroup}), an etcd group of three members
 * ({@link EtcdGroup}, etcd's defaults: fsync on) and, as the baseline, one {@link Db} writing {@code SYNC} in this
 * JVM, all on loopback and sharing the machine's cores. The systems are measured one at a time, never
 * concurrently, in an order that rotates from round to round; figures are the medians of the rounds.
 *
 * <ol>
 *   <li>first, each system once: {@code --system-warmup} s (90) of writes by the largest writer count, not
 *       counted (the member JVMs' JIT compilers, see {@link #warmUp});</li>
 *   <li>writes, for each writer count of {@code --writers} (1, 8, 32): closed-loop writers
 *       ({@link ClosedLoopLoad}), a client each ({@link RaftKvClient}, {@link EtcdKvClient}), of
 *       {@code --value-bytes} (100) random values, each writer to keys of its own, {@code --warmup} s (2, not
 *       counted) then {@code --seconds} s (10) measured: writes/s, p50, p99 of each system, Redoubt ÷ etcd and
 *       group ÷ single node (throughput). A write counts once the group acknowledged it: committed on a
 *       majority, fsynced there, applied by the member that answered;</li>
 *   <li>linearizable reads: {@code --readers} (8) closed-loop readers of random keys among 1000 preloaded ones
 *       ({@link RaftKvClient#get}, {@link EtcdKvClient#get}, both ReadIndex unless {@code --reads leader-lease}
 *       makes the Redoubt members answer from their lease, {@link RaftReadMode}), same warm-up and duration;</li>
 *   <li>leader election after {@code SIGKILL} of the Redoubt leader, {@code --kills} (20) times, etcd stopped
 *       ({@link RaftElections}); {@code --kills 0} skips it.</li>
 * </ol>
 *
 * At the end it prints a markdown table for {@code jmh/README.md}, writes the figures as JSON ({@code --json
 * FILE}; default {@code jmh/results/raft-<date>.json}; bin/bench passes the name of its console log's) and a
 * chart of writes/s, {@code raft-vs-etcd.png}, into {@code --charts DIR} ({@code docs/bench}; smoke runs: next
 * to the JSON; {@code --no-charts}: none).
 *
 * <p>Run: {@code bin/bench --raft [--writers 1,8,32] [--readers 8] [--reads read-index] [--seconds 10] [--warmup 2] [--rounds 2]
 * [--system-warmup 90] [--value-bytes 100] [--kills 20] [--no-etcd]}, about 15 minutes. {@code --smoke}: 1 s measurements after 1 s
 * of warm-up, 1 round, writers 1,8, 100 preloaded keys, 2 kills: about a minute. {@code --no-etcd} measures
 * Redoubt alone; without it, a missing {@code etcd} stops the run at once, saying what to install.
 */
public final class RaftHarness {
    private static final int PRELOAD_THREADS = 16;
    private static final String CHART = "raft-vs-etcd.png";
    private static final String USAGE = "options: --writers N,N,... --readers N --seconds N --warmup N --rounds N"
            + " --reads read-index|leader-lease --system-warmup N --value-bytes N --kills N --json FILE --charts DIR --no-charts --no-etcd --smoke";

    private List<Integer> writers = List.of(1, 8, 32);
    private int readers = 8;
    private RaftReadMode readMode = RaftReadMode.READ_INDEX;
    private int seconds = 10;
    private int warmup = 2;
    private int systemWarmup = 90;
    private int rounds = 2;
    private int valueBytes = 100;
    private int kills = 20;
    private int keys = 1000;
    private boolean etcd = true;
    private boolean smoke;
    private Path json;
    private Path charts;
    private boolean drawCharts = true;
    private Path root;

    private RaftHarness() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--member")) {
            member(args);
            return;
        }
        RaftHarness h = parse(args);
        h.root = BenchFiles.freshTempDir("redoubt-raft-bench");
        try {
            h.run();
        } finally {
            DirectoryTrees.deleteTree(h.root);
        }
    }

    /** Child mode: {@code --member DIR ID PEERS READS}: one member, default options but for the read mode, until killed. */
    private static void member(String[] args) throws InterruptedException {
        RaftGroupNode.start(Path.of(args[1]), args[2], RaftGroupNode.parsePeers(args[3]), DbOptions.defaults(), null,
                RaftReadMode.parse(args[4]));
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }

    /** The options; {@code --smoke} sets defaults, which the other options override wherever they are. */
    private static RaftHarness parse(String[] args) {
        RaftHarness h = new RaftHarness();
        if (Arrays.asList(args).contains("--smoke")) {
            h.smoke = true;
            h.seconds = 1;
            h.warmup = 1;
            h.systemWarmup = 2;
            h.rounds = 1;
            h.kills = 2;
            h.keys = 100;
            h.writers = List.of(1, 8);
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--smoke" -> {
                    // applied above
                }
                case "--no-etcd" -> h.etcd = false;
                case "--no-charts" -> h.drawCharts = false;
                case "--writers" -> h.writers = Arrays.stream(value(args, ++i, a).split(","))
                        .map(w -> positive(a, w.trim())).toList();
                case "--readers" -> h.readers = atLeast(a, value(args, ++i, a), 0);
                case "--reads" -> h.readMode = RaftReadMode.parse(value(args, ++i, a));
                case "--seconds" -> h.seconds = positive(a, value(args, ++i, a));
                case "--warmup" -> h.warmup = atLeast(a, value(args, ++i, a), 0);
                case "--system-warmup" -> h.systemWarmup = atLeast(a, value(args, ++i, a), 0);
                case "--rounds" -> h.rounds = positive(a, value(args, ++i, a));
                case "--value-bytes" -> h.valueBytes = positive(a, value(args, ++i, a));
                case "--kills" -> h.kills = atLeast(a, value(args, ++i, a), 0);
                case "--json" -> h.json = Path.of(value(args, ++i, a));
                case "--charts" -> h.charts = Path.of(value(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown option " + a + " (" + USAGE + ")");
            }
        }
        if (h.json == null) {
            h.json = Path.of("jmh", "results",
                    "raft-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".json");
        }
        if (h.charts == null) {
            String stem = h.json.getFileName().toString().replaceFirst("\\.json$", "");
            h.charts = h.smoke ? h.json.resolveSibling(stem + "-charts") : Path.of("docs", "bench");
        }
        return h;
    }

    private void run() throws Exception {
        String etcdVersion = etcd ? etcdVersion() : null;
        // etcd first: if it is missing, the run says so before anything else starts.
        EtcdGroup etcdGroup = etcd ? startEtcd() : null;
        RaftReport report = new RaftReport(setup(etcdVersion));
        try {
            System.out.printf(Locale.ROOT, "Raft harness%s: Redoubt 3-member group (%s reads) vs %s; writers %s, %d readers,"
                    + " %d-byte values, %d s warm-up + %d s per measurement, %d round(s) (medians), %d leader kills;"
                    + " %d cores, Java %s%n", smoke ? " (SMOKE: figures meaningless)" : "", readMode.cliName(),
                    etcd ? "etcd " + etcdVersion + " 3-member group" : "no etcd (--no-etcd)", writers, readers,
                    valueBytes, warmup, seconds, rounds, kills, Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.version"));
            try (RedoubtGroup group = RedoubtGroup.start(root.resolve("redoubt"), readMode)) {
                loads(report, group, etcdGroup);
                if (etcdGroup != null) {
                    etcdGroup.close(); // not running during the elections
                    etcdGroup = null;
                }
                if (kills > 0) {
                    RaftElections.Summary elections = RaftElections.measure(group, kills);
                    System.out.println(elections);
                    report.elections(elections);
                } else {
                    System.out.println("leader election: skipped (--kills 0)");
                }
            }
        } finally {
            if (etcdGroup != null) {
                etcdGroup.close();
            }
        }
        System.out.printf("%nTable for jmh/README.md (medians of %d round(s) of %d s):%n%n", rounds, seconds);
        report.printMarkdown(System.out);
        System.out.println();
        report.writeJson(json);
        System.out.println("figures: " + json);
        if (drawCharts) {
            String label = String.format(Locale.ROOT, "Redoubt vs %s, 3 members each on this machine, %d-byte values;"
                    + " run %s", etcd ? "etcd " + etcdVersion : "no etcd", valueBytes, json.getFileName());
            System.out.println("chart: " + report.drawWrites(charts.resolve(CHART), smoke, label));
        }
    }

    /** Preloads the keys to read, then measures the writes at every writer count and the reads. */
    private void loads(RaftReport report, RedoubtGroup group, EtcdGroup etcdGroup) throws Exception {
        List<Target> systems = new ArrayList<>();
        systems.add(new Target(RaftReport.REDOUBT, t -> RaftBenchClient.connected(
                RaftBenchClient.of(RaftKvClient.connect(group.peers())), "k0")));
        if (etcdGroup != null) {
            List<String> endpoints = etcdGroup.endpoints();
            systems.add(new Target(RaftReport.ETCD, t -> RaftBenchClient.connected(
                    RaftBenchClient.of(EtcdKvClient.connect(endpoints)), "k0")));
        }
        if (readers > 0) {
            for (Target s : systems) {
                preload(s);
            }
        }
        for (Target s : systems) {
            warmUp(s);
        }
        for (int w : writers) {
            report.add(compare(systems, w, false));
        }
        if (readers > 0) {
            report.add(compare(systems, readers, true));
        }
    }

    /**
     * Once per system before the first measurement, {@code --system-warmup} s (90) of the heaviest load (the
     * largest writer count): the member JVMs start interpreted, and their JIT compilers (C2 above all) take over a
     * minute of CPU on 2 cores to compile Ratis', gRPC's and the engine's hot paths, time a long-running group
     * spends once. Measured without it, the first loads mostly measure the compilers. etcd gets the same load.
     */
    private void warmUp(Target system) throws Exception {
        if (systemWarmup == 0) {
            return;
        }
        int threads = writers.stream().mapToInt(Integer::intValue).max().orElse(1);
        ClosedLoopLoad.Result r = ClosedLoopLoad.run("warm-up", threads, Duration.ZERO, Duration.ofSeconds(systemWarmup),
                system.connect(), this::write);
        System.out.printf(Locale.ROOT, "warm-up, %d writers for %d s: %s %s (not counted)%n", threads, systemWarmup,
                system.name(), r.format("writes"));
    }

    private EtcdGroup startEtcd() throws IOException, InterruptedException {
        try {
            return EtcdGroup.start(root.resolve("etcd"));
        } catch (IOException e) {
            throw new IOException("the etcd group did not start: " + e.getMessage()
                    + "; bin/bench --raft --no-etcd measures Redoubt alone", e);
        }
    }

    /**
     * One load, {@code rounds} times on every system in rotating order (plus the single node, for writes): the
     * medians, each measurement printed as it ends.
     */
    private RaftReport.Row compare(List<Target> systems, int threads, boolean reads) throws Exception {
        List<String> order = new ArrayList<>(systems.stream().map(Target::name).toList());
        if (!reads) {
            order.add(RaftReport.SINGLE);
        }
        Map<String, List<ClosedLoopLoad.Result>> results = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < order.size(); i++) {
                String name = order.get((i + round) % order.size());
                ClosedLoopLoad.Result r = name.equals(RaftReport.SINGLE) ? singleNode(threads)
                        : measure(systems.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(),
                                threads, reads);
                results.computeIfAbsent(name, n -> new ArrayList<>()).add(r);
                System.out.printf(Locale.ROOT, "%s, round %d: %s %s%n", RaftReport.load(reads, threads), round + 1,
                        name, r.format(reads ? "reads" : "writes"));
            }
        }
        RaftReport.Row row = new RaftReport.Row(reads, threads, figures(results, RaftReport.REDOUBT),
                figures(results, RaftReport.ETCD), figures(results, RaftReport.SINGLE));
        System.out.println(row.summary());
        return row;
    }

    private static RaftReport.Figures figures(Map<String, List<ClosedLoopLoad.Result>> results, String name) {
        return results.containsKey(name) ? new RaftReport.Figures(results.get(name)) : null;
    }

    private ClosedLoopLoad.Result measure(Target system, int threads, boolean reads) throws InterruptedException {
        return ClosedLoopLoad.run(reads ? "reader" : "writer", threads, Duration.ofSeconds(warmup),
                Duration.ofSeconds(seconds), system.connect(), reads ? this::read : this::write);
    }

    /** The baseline: one fresh {@link Db} in this JVM, every write {@code SYNC}; deleted afterwards. */
    private ClosedLoopLoad.Result singleNode(int threads) throws Exception {
        Path dir = root.resolve("single");
        try (Db db = Db.open(dir, DbOptions.defaults())) {
            return ClosedLoopLoad.run("single-writer", threads, Duration.ofSeconds(warmup), Duration.ofSeconds(seconds),
                    t -> RaftBenchClient.syncPuts(db), this::write);
        } finally {
            DirectoryTrees.deleteTree(dir);
        }
    }

    private void write(RaftBenchClient kv, int thread, long n) throws IOException {
        kv.put(bytes("w" + thread + "-" + n), value());
    }

    private void read(RaftBenchClient kv, int thread, long n) throws IOException {
        byte[] key = key(ThreadLocalRandom.current().nextInt(keys));
        if (kv.get(key) == null) {
            throw new IllegalStateException("preloaded key missing: " + new String(key, StandardCharsets.UTF_8));
        }
    }

    /** Puts the keys the readers read, from {@value #PRELOAD_THREADS} clients at once. */
    private void preload(Target system) throws Exception {
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(PRELOAD_THREADS);
        try {
            List<Future<Void>> done = new ArrayList<>();
            for (int t = 0; t < PRELOAD_THREADS; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    try (RaftBenchClient kv = system.connect().open(id)) {
                        for (int k = id; k < keys; k += PRELOAD_THREADS) {
                            kv.put(key(k), value());
                        }
                    }
                    return null;
                }));
            }
            for (Future<Void> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf(Locale.ROOT, "%s: %d keys preloaded in %.1f s%n", system.name(), keys,
                (System.nanoTime() - start) / 1e9);
    }

    private Map<String, Object> setup(String etcdVersion) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("benchmark", "dev.redoubt.bench.RaftHarness");
        m.put("date", LocalDateTime.now().withNano(0).toString());
        m.put("smoke", smoke);
        m.put("writers", writers);
        m.put("readers", readers);
        m.put("redoubtReads", readMode.cliName());
        m.put("preloadedKeys", keys);
        m.put("valueBytes", valueBytes);
        m.put("warmupSeconds", warmup);
        m.put("seconds", seconds);
        m.put("rounds", rounds);
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("java", System.getProperty("java.version"));
        m.put("etcd", etcdVersion);
        return m;
    }

    /** {@code etcd --version}'s version, e.g. "3.4.23"; "unknown" when it does not say (or is missing). */
    private static String etcdVersion() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("etcd", "--version").redirectErrorStream(true).start();
            try (BufferedReader in = p.inputReader(StandardCharsets.UTF_8)) {
                String version = in.lines().filter(l -> l.startsWith("etcd Version:"))
                        .map(l -> l.substring("etcd Version:".length()).trim()).collect(Collectors.joining());
                p.waitFor();
                return version.isEmpty() ? "unknown" : version;
            }
        } catch (IOException missing) {
            return "unknown"; // EtcdGroup.start says what to install
        }
    }

    private byte[] value() {
        byte[] v = new byte[valueBytes];
        ThreadLocalRandom.current().nextBytes(v);
        return v;
    }

    private static byte[] key(int k) {
        return bytes("k" + k);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value (" + USAGE + ")");
        }
        return args[i];
    }

    private static int positive(String option, String v) {
        return atLeast(option, v, 1);
    }

    private static int atLeast(String option, String v, int min) {
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number, not '" + v + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", not " + n);
        }
        return n;
    }

    /** A system under test: its name, and how a load thread opens its own client. */
    private record Target(String name, ClosedLoopLoad.Connect<RaftBenchClient> connect) {
    }
}
