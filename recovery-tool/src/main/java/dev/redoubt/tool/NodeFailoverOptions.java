package dev.redoubt.tool;

import dev.redoubt.replication.failover.FailoverSettings;
import dev.redoubt.replication.failover.LeaseClock;
import dev.redoubt.replication.failover.PrimaryRecord;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options of automatic failover for a node pair (docs/pair-failover.md), shared by {@code node start
 * --auto-failover} and {@code node witness}: the lease, and on a node the partner and where its failover member
 * keeps its files. The failover group itself is {@code --id} and {@code --peers} of the command.
 */
final class NodeFailoverOptions {
    @Option(names = "--auto-failover", description = "A node pair member whose failover group (--id, --peers: the"
            + " two nodes and the witness, at their failover addresses) decides who is primary: no --primary; --role"
            + " primary only lets this node claim a record nobody holds yet.")
    boolean enabled;

    @Option(names = "--partner", paramLabel = "ID@HOST:PORT",
            description = "With --auto-failover: the other node's id in --peers and its --listen address.")
    String partner;

    @Option(names = "--lease-ms", paramLabel = "MS", defaultValue = "" + PrimaryRecord.DEFAULT_LEASE_MILLIS,
            description = "The primary's lease (default: ${DEFAULT-VALUE}). A takeover comes 1.1 x the lease + 0.5 s"
                    + " after the primary's last renewal. The same on every member of the failover group.")
    int leaseMillis;

    @Option(names = "--failover-dir", paramLabel = "DIR", description = "With --auto-failover: the failover member's"
            + " files (default: DIR.failover beside --dir; never inside it, as a rejoin may move --dir aside).")
    Path groupDir;

    @Option(names = "--ship-before-fsync", description = "With --auto-failover: as primary, ship records to the backup"
            + " before this node's fsync completes, so the two fsyncs overlap (REMOTE_DURABLE writes faster; safe because"
            + " every primary start is a new epoch; docs/pair-failover.md). Off by default.")
    boolean shipBeforeFsync;

    LeaseClock lease() {
        try {
            return LeaseClock.of(leaseMillis);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--lease-ms: " + e.getMessage());
        }
    }

    /** The settings of a node ({@code partner} required) or of the witness (none). */
    FailoverSettings settings(String id, String peers, Path dataDir, boolean claimEmpty, boolean node) {
        if (id == null || peers == null) {
            throw CliException.usage("automatic failover needs --id ID and --peers ID@HOST:PORT,... (the failover"
                    + " group: both nodes and the witness)");
        }
        List<RaftGroupNode.Peer> group = RaftAdminCommand.peers(peers);
        RaftGroupNode.Peer other = null;
        if (node) {
            if (partner == null) {
                throw CliException.usage("--auto-failover needs --partner ID@HOST:PORT (the other node's id and its"
                        + " --listen address)");
            }
            List<RaftGroupNode.Peer> parsed = RaftAdminCommand.peers(partner);
            if (parsed.size() != 1) {
                throw CliException.usage("--partner names one node, not " + parsed.size());
            }
            other = parsed.get(0);
        } else if (partner != null) {
            throw CliException.usage("--partner is for a node; the witness holds no data");
        }
        Path dir = groupDir != null ? groupDir : FailoverSettings.defaultGroupDir(dataDir);
        try {
            return new FailoverSettings(id, group, other, node ? dir : dataDir, lease(), claimEmpty)
                    .withShipBeforeFsync(shipBeforeFsync);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
    }
}
