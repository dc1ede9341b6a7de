package dev.redoubt.replication.raft;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.DbOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.LifeCycle;

/**
 * One member of a Raft group (Apache Ratis over gRPC) whose state machine is the engine
 * ({@link DbStateMachine}). Layout of its directory: {@code raft/} (Ratis' log and metadata; the snapshots are in
 * its {@code <group id>/sm/}, see {@link DbSnapshotStorage}) and {@code db/} (the engine; {@link DbInstall} names
 * its transient siblings). Reads are linearizable (ReadIndex) by default.
 *
 * <p>Authenticated with a group credential ({@link RaftTls}: mutual TLS on every connection); without one, every
 * peer address must be a loopback address (docs/raft-design.md, Security).
 */
public final class RaftGroupNode implements AutoCloseable {
    /** Every Redoubt group has this id: one group per set of nodes. */
    public static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(
            UUID.nameUUIDFromBytes("redoubt-raft-group".getBytes(StandardCharsets.UTF_8)));

    private final RaftServer server;
    private final DbStateMachine stateMachine;
    private final SnapshotGuard snapshotGuard;
    private final CommitStallGuard commitStallGuard;
    private volatile boolean closing;

    private RaftGroupNode(RaftServer server, DbStateMachine stateMachine, String self) throws IOException {
        this.server = server;
        this.stateMachine = stateMachine;
        this.snapshotGuard = new SnapshotGuard(server.getDivision(GROUP_ID), stateMachine, self);
        this.commitStallGuard = new CommitStallGuard(server, self);
    }

    /** A peer: its id and the address its gRPC server listens on. */
    public record Peer(String id, InetSocketAddress address) {
        RaftPeer toRatis() {
            return RaftPeer.newBuilder().setId(id).setAddress(address.getHostString() + ":" + address.getPort()).build();
        }
    }

    /**
     * Parses {@code ID@HOST:PORT,ID@HOST:PORT,...}: ids are letters, digits, '-' and '_', unique; at least one
     * peer. An {@link IllegalArgumentException} says what is wrong.
     */
    public static List<Peer> parsePeers(String spec) {
        List<Peer> peers = new java.util.ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            int at = p.indexOf('@');
            int colon = p.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1 || colon == p.length() - 1) {
                throw new IllegalArgumentException("peer '" + p + "' is not ID@HOST:PORT");
            }
            String id = p.substring(0, at);
            if (!id.matches("[A-Za-z0-9_-]{1,64}")) {
                throw new IllegalArgumentException("peer id '" + id + "' must be 1-64 letters, digits, '-' or '_'");
            }
            int port;
            try {
                port = Integer.parseInt(p.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("peer '" + p + "': the port is not a number");
            }
            if (port < 1 || port > 65535 || peers.stream().anyMatch(q -> q.id().equals(id))) {
                throw new IllegalArgumentException("peer '" + p + "': port outside 1..65535 or id given twice");
            }
            peers.add(new Peer(id, new InetSocketAddress(p.substring(at + 1, colon), port)));
        }
        return List.copyOf(peers);
    }

    /** The group made of {@code peers}. */
    public static RaftGroup group(List<Peer> peers) {
        return RaftGroup.valueOf(GROUP_ID, peers.stream().map(Peer::toRatis).toList());
    }

    /** Starts member {@code self} of the group of {@code peers}, keeping its files under {@code dir}; loopback only. */
    public static RaftGroupNode start(Path dir, String self, List<Peer> peers, DbOptions dbOptions) {
        return start(dir, self, peers, -1, dbOptions, RaftLogOptions.defaults(), null);
    }

    /** As above, authenticated with the group credential {@code tls} (null: none, loopback only). */
    public static RaftGroupNode start(Path dir, String self, List<Peer> peers, DbOptions dbOptions, RaftTls tls) {
        return start(dir, self, peers, -1, dbOptions, tls);
    }

    /** As above, answering linearizable reads as {@code reads} says when it leads. */
    public static RaftGroupNode start(Path dir, String self, List<Peer> peers, DbOptions dbOptions, RaftTls tls,
                                      RaftReadMode reads) {
        return start(dir, self, peers, -1, dbOptions, RaftLogOptions.defaults(), tls, FileStorageEnv.INSTANCE, reads,
                false);
    }

    /** As below, without a credential: loopback only. */
    public static RaftGroupNode start(Path dir, String self, List<Peer> peers, int listenPort, DbOptions dbOptions) {
        return start(dir, self, peers, listenPort, dbOptions, RaftLogOptions.defaults(), null);
    }

    /**
     * Starts a member listening on {@code listenPort} instead of the port its peer entry names (-1: that port):
     * for tests that put a proxy at the advertised address to cut and heal the member's links.
     */
    public static RaftGroupNode start(Path dir, String self, List<Peer> peers, int listenPort, DbOptions dbOptions,
                                      RaftTls tls) {
        return start(dir, self, peers, listenPort, dbOptions, RaftLogOptions.defaults(), tls);
    }

    /** As above, with how the member snapshots its engine and trims its Raft log; without a credential. */
    public static RaftGroupNode start(Path dir, String self, List<Peer> peers, int listenPort, DbOptions dbOptions,
                                      RaftLogOptions logOptions) {
        return start(dir, self, peers, listenPort, dbOptions, logOptions, null);
    }

    /** As above, with how the member snapshots its engine and trims its Raft log, and its credential (or null). */
    public static RaftGroupNode start(Path dir, String self, List<Peer> peers, int listenPort, DbOptions dbOptions,
                                      RaftLogOptions logOptions, RaftTls tls) {
        return start(dir, self, peers, listenPort, dbOptions, logOptions, tls, FileStorageEnv.INSTANCE,
                RaftReadMode.READ_INDEX, false);
    }

    /**
     * As above, with the engine on {@code engineEnv} (tests: a file layer that loses unsynced bytes when killed)
     * and linearizable reads answered as {@code reads} says.
     */
    static RaftGroupNode start(Path dir, String self, List<Peer> peers, int listenPort, DbOptions dbOptions,
                               RaftLogOptions logOptions, RaftTls tls, StorageEnv engineEnv, RaftReadMode reads) {
        return start(dir, self, peers, listenPort, dbOptions, logOptions, tls, engineEnv, reads, false);
    }

    /**
     * Starts {@code self} as a newcomer for {@link RaftAdmin#addPeer} ({@code redoubt raft add-peer}) to admit. It
     * starts with an empty configuration: Ratis then starts it in its initializing state, where it does not
     * campaign but waits for a leader to send it the log. (Started with a configuration that holds it, it would
     * campaign in a loop until added, every pre-vote refused by the members, which do not know it.) Once
     * admitted, its configuration comes from its log, so later restarts find it either way. {@code peers} must
     * name {@code self}, for its address.
     */
    public static RaftGroupNode join(Path dir, String self, List<Peer> peers, DbOptions dbOptions) {
        return join(dir, self, peers, dbOptions, null);
    }

    /** As above, authenticated with the group credential {@code tls} (null: none, loopback only). */
    public static RaftGroupNode join(Path dir, String self, List<Peer> peers, DbOptions dbOptions, RaftTls tls) {
        return join(dir, self, peers, dbOptions, tls, RaftReadMode.READ_INDEX);
    }

    /** As above, answering linearizable reads as {@code reads} says once admitted and leading. */
    public static RaftGroupNode join(Path dir, String self, List<Peer> peers, DbOptions dbOptions, RaftTls tls,
                                     RaftReadMode reads) {
        return start(dir, self, peers, -1, dbOptions, RaftLogOptions.defaults(), tls, FileStorageEnv.INSTANCE, reads,
                true);
    }

    private static RaftGroupNode start(Path dir, String self, List<Peer> peers, int listenPort, DbOptions dbOptions,
                                       RaftLogOptions logOptions, RaftTls tls, StorageEnv engineEnv,
                                       RaftReadMode reads, boolean joining) {
        Peer me = peers.stream().filter(p -> p.id().equals(self)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("--id " + self + " is not one of the peers " + peers));
        RaftTls.checkAddresses(peers, tls, "Raft member " + self);
        RaftProperties properties = new RaftProperties();
        RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.GRPC);
        GrpcConfigKeys.Server.setHost(properties, me.address().getHostString());
        GrpcConfigKeys.Server.setPort(properties, listenPort >= 0 ? listenPort : me.address().getPort());
        RaftServerConfigKeys.setStorageDir(properties, List.of(dir.resolve("raft").toFile()));
        reads.applyTo(properties);
        logOptions.applyTo(properties);
        RaftWritePathSettings.applyTo(properties);
        DbStateMachine stateMachine = new DbStateMachine(engineEnv, dir.resolve("db"), dbOptions);
        try {
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(self))
                    .setGroup(joining ? RaftGroup.valueOf(GROUP_ID) : group(peers))
                    .setStateMachine(stateMachine)
                    .setProperties(properties)
                    .setParameters(RaftTls.parameters(tls))
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
            stateMachine.trimRaftLogBelowSnapshot(server.getDivision(GROUP_ID).getRaftLog());
            return new RaftGroupNode(server, stateMachine, self);
        } catch (IOException e) {
            throw StorageException.fromIo("starting Raft member " + self + " in " + dir, e);
        }
    }

    public DbStateMachine stateMachine() {
        return stateMachine;
    }

    SnapshotGuard snapshotGuard() {
        return snapshotGuard;
    }

    /** Whether this member is the group's leader now. */
    public boolean isLeader() {
        try {
            return server.getDivision(GROUP_ID).getInfo().isLeader();
        } catch (IOException e) {
            return false;
        }
    }

    /** The first index this member's Raft log still holds (entries below it were purged after a snapshot). */
    long raftLogStartIndex() throws IOException {
        return server.getDivision(GROUP_ID).getRaftLog().getStartIndex();
    }

    /** The highest index this member's Raft log knows committed. */
    /** How this member answers linearizable reads, as its Raft server was configured. */
    RaftReadMode readMode() {
        return RaftServerConfigKeys.Read.leaderLeaseEnabled(server.getProperties()) ? RaftReadMode.LEADER_LEASE
                : RaftReadMode.READ_INDEX;
    }

    long raftCommitIndex() throws IOException {
        return server.getDivision(GROUP_ID).getRaftLog().getLastCommittedIndex();
    }

    /**
     * Null while this member runs (and after {@link #close}); otherwise why it stopped on its own: Ratis closes a
     * member whose state machine failed (an entry that could not be applied, a snapshot that could not be
     * installed), and the process would otherwise live on with a dead member that still holds its port. The
     * CLI's {@code node start --raft} exits with this message, so that a supervisor restarts the member (which
     * recovers from its log, or from the leader's snapshot).
     */
    public String stoppedOnItsOwn() {
        if (closing) {
            return null;
        }
        LifeCycle.State state;
        try {
            state = server.getDivision(GROUP_ID).getInfo().getLifeCycleState();
        } catch (IOException e) {
            return "Ratis no longer runs this member's group (" + e.getMessage() + ")";
        }
        if (!state.isClosingOrClosed() && state != LifeCycle.State.EXCEPTION) {
            return null;
        }
        Throwable why = stateMachine.failure();
        return "Ratis stopped this member (its server is " + state + ")"
                + (why != null ? ": its state machine failed: " + why.getMessage() : "; its log above says why");
    }

    @Override
    public void close() {
        closing = true;
        commitStallGuard.close();
        snapshotGuard.close();
        try {
            server.close();
        } catch (IOException e) {
            throw StorageException.fromIo("closing a Raft member", e);
        }
    }
}
