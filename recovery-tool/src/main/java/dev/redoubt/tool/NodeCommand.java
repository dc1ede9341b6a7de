package dev.redoubt.tool;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.CommitLevel;
import dev.redoubt.replication.Node;
import dev.redoubt.replication.NodeClient;
import dev.redoubt.replication.NodeConfig;
import dev.redoubt.replication.PeerSecret;
import dev.redoubt.replication.Rejoin;
import dev.redoubt.wal.WalOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code redoubt node ...}: run and operate a node of a primary-backup pair. */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run a replicated node (primary or backup), show its status, promote a backup.",
        subcommands = {NodeCommand.Start.class, NodeCommand.Status.class, NodeCommand.Promote.class,
            NodeCommand.RejoinCommand.class, NodeWitnessCommand.class})
final class NodeCommand {
    private NodeCommand() {
    }

    /** HOST:PORT (IPv6 as [::1]:PORT), or PORT alone for the loopback address; a usage error otherwise. */
    static InetSocketAddress address(String text, String option) {
        if (text.matches("[0-9]{1,5}")) {
            return address("127.0.0.1:" + text, option);
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw CliException.usage(option + " must be HOST:PORT, got '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw CliException.usage(option + ": port " + port + " is outside 0..65535");
            }
            return new InetSocketAddress(host, port);
        } catch (NumberFormatException e) {
            throw CliException.usage(option + " must be HOST:PORT, got '" + text + "'");
        }
    }

    static PeerSecret secret(Path file) {
        return PeerSecret.fromFile(DataDir.requireFile(file));
    }

    @Command(name = "start", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Run a node in the foreground until it is stopped (SIGTERM or Ctrl-C closes it cleanly).",
                "A backup streams the primary's WAL from its own end (a checkpoint first if it is too far behind),",
                "applies it, and serves reads; a primary accepts writes at the commit level."})
    static final class Start extends ToolCommand {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Data directory (created if missing or empty).")
        Path dir;

        @Option(names = "--role", paramLabel = "ROLE", description = "primary or backup (a node pair).")
        Node.Role role;

        @Option(names = "--raft", description = "Run a member of a Raft group instead (with --id and --peers;"
                + " with --tls-dir for addresses other than loopback).")
        boolean raft;

        @picocli.CommandLine.Mixin
        RaftTlsOption tls;

        @Option(names = "--id", paramLabel = "ID", description = "With --raft or --auto-failover: this member's id in --peers.")
        String id;

        @Option(names = "--peers", paramLabel = "ID@HOST:PORT,...", description = "With --raft: every member of the group."
                + " With --auto-failover: the failover group (both nodes and the witness, at their failover addresses).")
        String peers;

        @picocli.CommandLine.Mixin
        NodeFailoverOptions failover;

        @Option(names = "--join", description = "With --raft: a newcomer to an existing group (empty directory): it waits,"
                + " outside the group, until `redoubt raft add-peer` adds it.")
        boolean join;

        @Option(names = "--reads", paramLabel = "MODE", description = "With --raft: how this member answers linearizable"
                + " reads while it leads: read-index (the default: one heartbeat round to a majority per batch of reads)"
                + " or leader-lease (no round while its lease holds; linearizable only while the members' clocks advance"
                + " at rates within 10% of each other: docs/raft-design.md, \"Reads\"). Use the same on every member.")
        String reads;

        @Option(names = "--listen", paramLabel = "[HOST:]PORT",
                description = "Where to accept backups and clients; a PORT alone binds to the loopback address"
                        + " (127.0.0.1). Name another host only when peers on other hosts must connect.")
        String listen;

        @Option(names = "--primary", paramLabel = "HOST:PORT", description = "The primary to stream from (a backup only).")
        String primary;

        @Option(names = "--secret-file", paramLabel = "FILE",
                description = "A node pair's shared secret (at least 16 bytes; the same file on every node). Never on the"
                        + " command line. A Raft member uses --tls-dir instead.")
        Path secretFile;

        @Option(names = "--commit", paramLabel = "LEVEL", defaultValue = "LOCAL",
                description = "Default commit level of writes: LOCAL, REMOTE_DURABLE or REMOTE_APPLY (default: ${DEFAULT-VALUE}).")
        CommitLevel commit;

        @Option(names = "--remote-timeout-ms", paramLabel = "MS", defaultValue = "2000",
                description = "How long a remote commit level waits for the backup before the write fails (default: ${DEFAULT-VALUE}).")
        long remoteTimeoutMillis;

        @Option(names = "--segment-bytes", paramLabel = "BYTES", defaultValue = "" + WalOptions.DEFAULT_SEGMENT_BYTES,
                description = "WAL segment size; a backup must use its primary's (default: ${DEFAULT-VALUE}).")
        int segmentBytes;

        @Option(names = "--name", paramLabel = "NAME", description = "This node's name in the primary's status (default: the listen address).")
        String name;

        @Override
        int run() throws InterruptedException {
            if (raft) {
                return runRaftMember(this);
            }
            if (join) {
                throw CliException.usage("--join is for a Raft member (--raft)");
            }
            if (reads != null) {
                throw CliException.usage("--reads is for a Raft member (--raft); a node pair's reads are local");
            }
            if (failover.enabled) {
                return runWithAutoFailover();
            }
            if (failover.partner != null || failover.groupDir != null || failover.shipBeforeFsync) {
                throw CliException.usage("--partner, --failover-dir and --ship-before-fsync are for a node with"
                        + " --auto-failover");
            }
            if (id != null || peers != null) {
                throw CliException.usage("--id and --peers are for --raft or --auto-failover");
            }
            if (role == null || listen == null) {
                throw CliException.usage("a node pair member needs --role primary|backup and --listen [HOST:]PORT"
                        + " (or --raft --id ID --peers ... for a Raft group)");
            }
            if (role == Node.Role.FENCED) {
                throw CliException.usage("--role must be primary or backup");
            }
            if (secretFile == null) {
                throw CliException.usage("a node pair member needs --secret-file FILE (the shared secret)");
            }
            if ((role == Node.Role.BACKUP) != (primary != null)) {
                throw CliException.usage(role == Node.Role.BACKUP ? "a backup needs --primary HOST:PORT"
                        : "--primary is for a backup only");
            }
            InetSocketAddress listenAt = address(listen, "--listen");
            NodeConfig config = NodeConfig.of(dir, role, listenAt, primary == null ? null : address(primary, "--primary"),
                            secret(secretFile))
                    .withName(name != null ? name : listen).withDefaultCommit(commit)
                    .withRemoteTimeoutMillis(remoteTimeoutMillis)
                    .withDbOptions(DbOptions.defaults().walSegmentBytes(segmentBytes)).withTls(tls.load());
            return serve(config);
        }

        /** {@code --auto-failover}: the failover group decides the role; --role primary may claim an empty record. */
        private int runWithAutoFailover() throws InterruptedException {
            if (listen == null || secretFile == null) {
                throw CliException.usage("a node pair member needs --listen [HOST:]PORT and --secret-file FILE");
            }
            if (primary != null) {
                throw CliException.usage("with --auto-failover the failover group names the primary: drop --primary");
            }
            if (role == Node.Role.FENCED) {
                throw CliException.usage("--role must be primary or backup");
            }
            NodeConfig config = NodeConfig.withAutoFailover(dir, address(listen, "--listen"), secret(secretFile),
                            failover.settings(id, peers, dir, role == Node.Role.PRIMARY, true))
                    .withDefaultCommit(commit).withRemoteTimeoutMillis(remoteTimeoutMillis)
                    .withDbOptions(DbOptions.defaults().walSegmentBytes(segmentBytes)).withTls(tls.load())
                    .withName(name != null ? name : id);
            return serve(config);
        }

        private int serve(NodeConfig config) throws InterruptedException {
            Node node = Node.start(config);
            String role = config.failover() == null ? " as " + node.role() + " at epoch " + node.epoch() : "";
            out().println("node " + config.name() + " serving" + role + " on " + hostPort(node.listenAddress())
                    + (config.tls() == null ? "" : " (mutual TLS, certificate SHA-256 " + config.tls().fingerprint() + ")")
                    + (config.failover() == null ? "" : ", automatic failover: the failover group " + config.failover()
                    .groupPeers() + " names the primary (lease " + config.failover().lease().leaseMillis()
                    + " ms); `node status` shows the role"));
            out().flush();
            awaitShutdown(node);
            return ExitCodes.OK;
        }
    }

    static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    private static void awaitShutdown(AutoCloseable member) throws InterruptedException {
        closeOnShutdown(member).await();
    }

    /** Closes {@code member} when the JVM exits (SIGTERM, Ctrl-C); the latch opens once it is closed. */
    static CountDownLatch closeOnShutdown(AutoCloseable member) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                member.close();
            } catch (Exception ignored) {
                // exiting
            }
            stopped.countDown();
        }, "redoubt-node-shutdown"));
        return stopped;
    }

    /**
     * Until SIGTERM; or until Ratis stops the member on its own (its state machine failed): then the command
     * fails with why, instead of leaving a process that holds the port of a dead member.
     */
    private static void awaitShutdownOrStop(dev.redoubt.replication.raft.RaftGroupNode member, String id)
            throws InterruptedException {
        CountDownLatch stopped = closeOnShutdown(member);
        while (!stopped.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
            String why = member.stoppedOnItsOwn();
            if (why != null) {
                // 2 when the engine or the snapshot is corrupt, as for every command; 70 for any other failure
                Throwable failure = member.stateMachine().failure();
                boolean corrupt = failure != null && failure.getCause() instanceof StorageException e
                        && e.code() == ErrorCode.CORRUPTION;
                int code = corrupt ? ExitCodes.CORRUPTION : ExitCodes.SOFTWARE;
                throw new CliException(code, "raft member " + id + " stopped: " + why + ". Restart it: it recovers"
                        + " from its Raft log, or from a snapshot of the leader if its engine cannot be used");
            }
        }
    }

    /** {@code node start --raft}: one member of a Raft group, in the foreground until SIGTERM. */
    static int runRaftMember(Start s) throws InterruptedException {
        if (s.id == null || s.peers == null || s.role != null || s.primary != null) {
            throw CliException.usage("--raft needs --id ID and --peers ID@HOST:PORT,... (and no --role or --primary)");
        }
        if (s.failover.enabled || s.failover.partner != null || s.failover.groupDir != null || s.failover.shipBeforeFsync) {
            throw CliException.usage("--auto-failover, --partner and --failover-dir are for node pairs, not --raft");
        }
        if (s.listen != null) {
            throw CliException.usage("--listen is for node pairs: a Raft member listens at its own address in --peers");
        }
        if (s.secretFile != null) {
            throw CliException.usage("--secret-file is for node pairs: a Raft group authenticates with its credential,"
                    + " --tls-dir DIR (make one with `redoubt raft tls-init --dir DIR`)");
        }
        java.util.List<dev.redoubt.replication.raft.RaftGroupNode.Peer> group = RaftAdminCommand.peers(s.peers);
        dev.redoubt.replication.raft.RaftTls credential = s.tls.load();
        dev.redoubt.replication.raft.RaftGroupNode member;
        dev.redoubt.replication.raft.RaftReadMode reads;
        try {
            reads = s.reads == null ? dev.redoubt.replication.raft.RaftReadMode.READ_INDEX
                    : dev.redoubt.replication.raft.RaftReadMode.parse(s.reads);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--reads: " + e.getMessage());
        }
        try {
            DbOptions options = DbOptions.defaults().walSegmentBytes(s.segmentBytes);
            member = s.join ? dev.redoubt.replication.raft.RaftGroupNode.join(s.dir, s.id, group, options, credential, reads)
                    : dev.redoubt.replication.raft.RaftGroupNode.start(s.dir, s.id, group, options, credential, reads);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        s.out().println("raft member " + s.id + (s.join ? " waiting to be added (redoubt raft add-peer)" : " of " + group.size())
                + " serving on " + group.stream().filter(p -> p.id().equals(s.id)).findFirst().orElseThrow().address()
                + (credential == null ? " (loopback only, no credential)" : " (mutual TLS, certificate SHA-256 "
                + credential.fingerprint() + ")") + ", " + reads.cliName() + " reads");
        s.out().flush();
        awaitShutdownOrStop(member, s.id);
        return ExitCodes.OK;
    }

    /** Options shared by the commands that talk to a running node. */
    abstract static class Remote extends ToolCommand {
        @Option(names = "--node", required = true, paramLabel = "HOST:PORT", description = "The node's listen address.")
        String node;

        @Option(names = "--secret-file", required = true, paramLabel = "FILE", description = "The shared secret file.")
        Path secretFile;

        @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "5000", description = "Connect and response timeout (default: ${DEFAULT-VALUE}).")
        int timeoutMillis;

        @picocli.CommandLine.Mixin
        RaftTlsOption tls;

        NodeClient connect() throws IOException {
            return NodeClient.connect(address(node, "--node"), secret(secretFile), tls.load(), timeoutMillis);
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Show a node's role, epoch, log positions, and per backup (or for its primary) the",
                "acknowledged LSNs and lag in bytes and milliseconds."})
    static final class Status extends Remote {
        @Option(names = "--json", description = "One JSON document (field names are stable; see the README).")
        boolean json;

        @Override
        int run() throws IOException {
            jsonOutput(json);
            String status;
            try (NodeClient c = connect()) {
                status = c.statusJson();
            }
            out().println(status);
            return ExitCodes.OK;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Make a backup the primary: epoch + 1, logged at the end of what it received. It then",
                "tells its former primary to stop accepting writes (fencing)."})
    static final class Promote extends Remote {
        @Override
        int run() throws IOException {
            try (NodeClient c = connect()) {
                out().println(c.promote());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "rejoin", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Make a stopped former primary a backup of the new primary: find where its log left the",
                "new history (the fork LSN), discard what follows, and report it. If the divergence reached its",
                "tables, the whole directory is moved aside (kept) and the node bootstraps from a checkpoint.",
                "Then start it with `redoubt node start --role backup`. Exit 0: done (see the report)."})
    static final class RejoinCommand extends ToolCommand {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The stopped node's data directory.")
        Path dir;

        @Option(names = "--primary", required = true, paramLabel = "HOST:PORT", description = "The current primary.")
        String primary;

        @Option(names = "--secret-file", required = true, paramLabel = "FILE", description = "The shared secret file.")
        Path secretFile;

        @Option(names = "--json", description = "One JSON document (see the README).")
        boolean json;

        @picocli.CommandLine.Mixin
        RaftTlsOption tls;

        @Override
        int run() throws IOException {
            jsonOutput(json);
            DataDir.requireDatabase(dir);
            Rejoin.Report r = Rejoin.run(dir, address(primary, "--primary"), secret(secretFile), tls.load());
            if (json) {
                java.util.List<Object> keys = Json.array();
                for (byte[] k : r.discardedKeys()) {
                    keys.add(Json.object().putBytes("key", k));
                }
                printJson(Json.object().put("command", "node rejoin").put("action", r.action())
                        .put("primaryEpoch", r.primaryEpoch()).put("forkLsn", r.forkLsn()).put("endLsn", r.endLsn())
                        .put("discardedBytes", r.discardedBytes()).put("discardedRecords", r.discardedRecords())
                        .put("discardedBatches", r.discardedBatches()).put("discardedKeys", keys)
                        .put("movedTo", r.movedTo()).put("savedTo", r.savedTo()));
                return ExitCodes.OK;
            }
            switch (r.action()) {
                case "none" -> out().println("nothing diverged: the log ends at LSN " + r.endLsn()
                        + ", inside the primary's history; start the node as a backup");
                case "truncated" -> {
                    out().println("discarded LSN " + r.forkLsn() + ".." + r.endLsn() + " (" + r.discardedBytes() + " bytes, "
                            + r.discardedRecords() + " records, " + r.discardedBatches() + " write batches) that the primary"
                            + " at epoch " + r.primaryEpoch() + " never had; keys written by them:");
                    for (byte[] k : r.discardedKeys()) {
                        out().println("  " + Bytes.describe(k));
                    }
                    out().println("a copy of the discarded records, keys and values: " + r.savedTo() + " (read it with"
                            + " `redoubt wal dump " + r.savedTo() + " --from " + r.forkLsn() + " --keys --values`)");
                }
                default -> out().println("the divergence (from LSN " + r.forkLsn() + ") reached the tables: the database"
                        + " was moved to " + r.movedTo() + "; the node will bootstrap from the primary's checkpoint");
            }
            return ExitCodes.OK;
        }
    }
}
