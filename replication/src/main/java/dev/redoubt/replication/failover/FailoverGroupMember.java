package dev.redoubt.replication.failover;

import dev.redoubt.common.StorageException;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;

/**
 * One member of a node pair's failover group (docs/pair-failover.md): a Ratis server whose state machine is the
 * {@link PrimaryRecordStateMachine}. Each data node runs one beside its listener; the witness is nothing but
 * one. Its files live in their own directory (never inside a node's data directory: a rejoin may move that
 * aside, and a Raft member's log must never move or vanish under it): the Raft log and the record's snapshots (one every
 * {@value #SNAPSHOT_EVERY_ENTRIES} entries, the log purged behind it, so renewals do not grow it forever).
 * Authenticated like a Raft group: mutual TLS with the group credential, or loopback only without one.
 */
public final class FailoverGroupMember implements AutoCloseable {
    /** The failover group's id: one per pair, distinct from a data Raft group's. */
    public static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(
            UUID.nameUUIDFromBytes("redoubt-pair-failover-group".getBytes(StandardCharsets.UTF_8)));
    static final long SNAPSHOT_EVERY_ENTRIES = 1_000;

    private final RaftServer server;
    private final PrimaryRecordStateMachine stateMachine;

    private FailoverGroupMember(RaftServer server, PrimaryRecordStateMachine stateMachine) {
        this.server = server;
        this.stateMachine = stateMachine;
    }

    /** Starts member {@code self} of {@code peers} (three: the two nodes and the witness) with its files in {@code dir}. */
    public static FailoverGroupMember start(Path dir, String self, List<RaftGroupNode.Peer> peers, int leaseMillis,
                                            RaftTls tls) {
        return start(dir, self, peers, leaseMillis, tls, SNAPSHOT_EVERY_ENTRIES);
    }

    /** As above, with a snapshot every {@code snapshotEveryEntries} entries (tests: often). */
    static FailoverGroupMember start(Path dir, String self, List<RaftGroupNode.Peer> peers, int leaseMillis,
                                     RaftTls tls, long snapshotEveryEntries) {
        return start(dir, self, peers, leaseMillis, tls, snapshotEveryEntries, -1);
    }

    private static FailoverGroupMember start(Path dir, String self, List<RaftGroupNode.Peer> peers, int leaseMillis,
                                             RaftTls tls, long snapshotEveryEntries, int listenPort) {
        RaftGroupNode.Peer me = peers.stream().filter(p -> p.id().equals(self)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("--id " + self + " is not one of the failover group's peers " + peers));
        RaftProperties properties = new RaftProperties();
        RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.GRPC);
        GrpcConfigKeys.Server.setHost(properties, me.address().getHostString());
        GrpcConfigKeys.Server.setPort(properties, listenPort >= 0 ? listenPort : me.address().getPort());
        RaftServerConfigKeys.setStorageDir(properties, List.of(dir.toFile()));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, snapshotEveryEntries);
        // Purge as soon as a snapshot allows (Ratis' default gap of 1024 entries would keep a small log whole).
        RaftServerConfigKeys.Log.setPurgeGap(properties, (int) Math.min(1024, snapshotEveryEntries));
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
        PrimaryRecordStateMachine stateMachine = new PrimaryRecordStateMachine(leaseMillis);
        try {
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(self))
                    .setGroup(group(peers))
                    .setStateMachine(stateMachine)
                    .setProperties(properties)
                    .setParameters(tls == null ? new org.apache.ratis.conf.Parameters() : tls.parameters())
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
            return new FailoverGroupMember(server, stateMachine);
        } catch (IOException e) {
            throw StorageException.fromIo("starting failover group member " + self + " in " + dir, e);
        }
    }

    static RaftGroup group(List<RaftGroupNode.Peer> peers) {
        return RaftGroup.valueOf(GROUP_ID, RaftGroupNode.group(peers).getPeers());
    }

    /** Starts the member {@code settings} describe (this node's or the witness'). */
    public static FailoverGroupMember start(FailoverSettings settings, RaftTls tls) {
        return start(settings.groupDir(), settings.self(), settings.groupPeers(), settings.lease().leaseMillis(), tls,
                SNAPSHOT_EVERY_ENTRIES, settings.listenPort());
    }

    /** The Raft index of the last entry this member applied; -1 before the first. */
    public long appliedIndex() {
        var applied = stateMachine.getLastAppliedTermIndex();
        return applied == null ? -1 : applied.getIndex();
    }

    /** The record as this member has applied it. */
    public PrimaryRecord record() {
        return stateMachine.record();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
