package dev.redoubt.replication.failover;

import dev.redoubt.replication.raft.RaftGroupNode;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * Automatic failover for one member of a node pair's failover group (docs/pair-failover.md).
 *
 * @param self       this member's id in {@code groupPeers} (a node's id is also its name in the primary record)
 * @param groupPeers the failover group: the two nodes and the witness, each at its consensus address (not the
 *                   node's data listener)
 * @param partner    on a node: the other node's id and data listen address (where to stream from or rejoin to
 *                   when it holds the record); null on the witness
 * @param groupDir   the member's own files (Raft log, record snapshots); outside any node's data directory
 * @param lease      the lease length and the drift and margin bounds every member assumes
 * @param claimEmpty whether this node may claim a record nobody holds yet (the pair's first primary)
 * @param listenPort the port this member listens on when it differs from its address in {@code groupPeers}
 *                   (a port forward or a proxy in between); -1: that address' port
 * @param shipBeforeFsync as primary, ship records to the backup as soon as they are written to the OS, before
 *                   this node's fsync completes, so that the two fsyncs overlap (safe because every primary start
 *                   is a new epoch from the failover group: docs/pair-failover.md). Off by default until the pair
 *                   nemesis has run with power cuts
 */
public record FailoverSettings(String self, List<RaftGroupNode.Peer> groupPeers, RaftGroupNode.Peer partner,
                               Path groupDir, LeaseClock lease, boolean claimEmpty, int listenPort,
                               boolean shipBeforeFsync) {
    public FailoverSettings(String self, List<RaftGroupNode.Peer> groupPeers, RaftGroupNode.Peer partner,
                            Path groupDir, LeaseClock lease, boolean claimEmpty) {
        this(self, groupPeers, partner, groupDir, lease, claimEmpty, -1, false);
    }

    public FailoverSettings {
        groupPeers = List.copyOf(groupPeers);
        if (listenPort < -1 || listenPort > 65_535) {
            throw new IllegalArgumentException("listen port " + listenPort + " outside 0..65535");
        }
        if (groupPeers.size() != 3) {
            throw new IllegalArgumentException("a failover group has three members (the two nodes and the witness), not "
                    + groupPeers.size() + ": " + groupPeers);
        }
        if (groupPeers.stream().map(RaftGroupNode.Peer::id).distinct().count() != 3) {
            throw new IllegalArgumentException("the failover group's member ids repeat: " + groupPeers);
        }
        if (groupPeers.stream().noneMatch(p -> p.id().equals(self))) {
            throw new IllegalArgumentException("--id " + self + " is not one of the failover group's members " + groupPeers);
        }
        if (partner != null && (partner.id().equals(self)
                || groupPeers.stream().noneMatch(p -> p.id().equals(partner.id())))) {
            throw new IllegalArgumentException("the partner node " + partner.id() + " must be another member of the"
                    + " failover group " + groupPeers);
        }
    }

    /** The directory a node keeps its failover member's files in, beside (never inside) its data directory. */
    public static Path defaultGroupDir(Path dataDir) {
        Path abs = dataDir.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + ".failover");
    }

    /** The data listen address of node {@code id}, if it is the partner; null for anyone else (the witness). */
    public InetSocketAddress dataAddressOf(String id) {
        return partner != null && partner.id().equals(id) ? partner.address() : null;
    }

    /** These settings with the member listening on {@code port} (see {@link #listenPort}). */
    public FailoverSettings withListenPort(int port) {
        return new FailoverSettings(self, groupPeers, partner, groupDir, lease, claimEmpty, port, shipBeforeFsync);
    }

    /** These settings with {@link #shipBeforeFsync} set to {@code ship}. */
    public FailoverSettings withShipBeforeFsync(boolean ship) {
        return new FailoverSettings(self, groupPeers, partner, groupDir, lease, claimEmpty, listenPort, ship);
    }
}
