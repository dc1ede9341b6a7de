package dev.redoubt.replication;

import dev.redoubt.common.PowerLossStorageEnv;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.failover.FailoverGroupMember;
import dev.redoubt.replication.failover.FailoverSettings;
import dev.redoubt.replication.failover.LeaseClock;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A member of a pair with automatic failover in its own JVM, for {@link PairNemesisTest}:
 * {@code PairMemberMain witness|node DIR ID GROUP_PEERS GROUP_LISTEN_PORT LEASE_MS [PARTNER DATA_LISTEN_PORT
 * SECRET_FILE CLAIM_EMPTY]}. The peers and the partner are the advertised addresses (proxies in the test); the
 * member listens on the real ports given. A node's engine, epoch history and rejoins run on a
 * {@link PowerLossStorageEnv}: a SIGKILL is a power cut for them. Prints {@code READY} and runs until killed.
 */
public final class PairMemberMain {
    /** {@code -Dredoubt.pair.shipBeforeFsync=true}: nodes ship records before their fsync (FailoverSettings). */
    static final String SHIP_BEFORE_FSYNC_PROPERTY = "redoubt.pair.shipBeforeFsync";

    private PairMemberMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean witness = args[0].equals("witness");
        Path dir = Path.of(args[1]);
        String id = args[2];
        var peers = RaftGroupNode.parsePeers(args[3]);
        int groupPort = Integer.parseInt(args[4]);
        LeaseClock lease = LeaseClock.of(Integer.parseInt(args[5]));
        if (witness) {
            FailoverGroupMember.start(new FailoverSettings(id, peers, null, dir, lease, false, groupPort, false), null);
        } else {
            RaftGroupNode.Peer partner = RaftGroupNode.parsePeers(args[6]).get(0);
            int dataPort = Integer.parseInt(args[7]);
            FailoverSettings settings = new FailoverSettings(id, peers, partner, FailoverSettings.defaultGroupDir(dir),
                    lease, Boolean.parseBoolean(args[9]), groupPort, Boolean.getBoolean(SHIP_BEFORE_FSYNC_PROPERTY));
            // Power loss: every engine byte not yet fsynced lives in this process' memory, so a SIGKILL loses
            // exactly what a power cut would (with shipBeforeFsync, records the backup may already hold).
            Node.start(NodeConfig.withAutoFailover(dir, new InetSocketAddress("127.0.0.1", dataPort),
                            PeerSecret.fromFile(Path.of(args[8])), settings)
                    .withDbOptions(DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(512 * 1024))
                    .withRemoteTimeoutMillis(1_000).withName(id).withStorageEnv(new PowerLossStorageEnv()));
        }
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }
}
