package dev.redoubt.replication.raft;

import dev.redoubt.common.PowerLossStorageEnv;
import dev.redoubt.engine.DbOptions;
import java.nio.file.Path;

/**
 * A Raft member in its own JVM for the process tests: {@code RaftMemberMain DIR ID PEERS LISTEN_PORT [TLS_DIR]}
 * (TLS_DIR: the group credential, required for non-loopback addresses), linearizable reads answered as the
 * system property {@value #READS_PROPERTY} says ({@link RaftReadMode#parse}; default read-index). Starts the
 * member, prints {@code RECOVERED <engine's applied index> <Raft log's commit index>} and {@code READY}, and runs
 * until killed; if Ratis stops the member on its own (its state machine failed), prints {@code STOPPED <why>} and
 * exits with 70.
 *
 * <p>The engine runs on a {@link PowerLossStorageEnv}: every engine byte not yet fsynced lives in this process's
 * memory, so a SIGKILL loses exactly what a power cut would lose of the engine (its ASYNC-applied WAL tail).
 * The design relies on the Raft log, not the engine's WAL, for durability; after such a kill Ratis must replay
 * what the engine lost. Small WAL segments, memtables, Raft log segments and snapshot threshold make flushes,
 * segment rolls, snapshots and log purges happen during short runs.
 */
public final class RaftMemberMain {
    static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024);
    /** A snapshot every 400 entries (about 200 writes), the log in 64 KiB segments purged up to it. */
    static final RaftLogOptions FREQUENT_SNAPSHOTS = RaftLogOptions.defaults().withSnapshotThresholdEntries(400)
            .withLogSegmentBytes(64 * 1024).withPurgeGapEntries(64);

    /** How the member answers linearizable reads; {@link RaftMemberProcess} passes the test JVM's value on. */
    static final String READS_PROPERTY = "redoubt.raft.reads";

    private RaftMemberMain() {
    }

    public static void main(String[] args) throws Exception {
        RaftTls tls = args.length > 4 ? RaftTls.load(Path.of(args[4])) : null;
        RaftGroupNode member = RaftGroupNode.start(Path.of(args[0]), args[1], RaftGroupNode.parsePeers(args[2]),
                Integer.parseInt(args[3]), SMALL, FREQUENT_SNAPSHOTS, tls, new PowerLossStorageEnv(),
                RaftReadMode.parse(System.getProperty(READS_PROPERTY, RaftReadMode.READ_INDEX.cliName())));
        // What the engine kept of the committed log at start: Ratis replays the difference.
        System.out.println("RECOVERED " + member.stateMachine().recoveredAppliedIndex() + " " + member.raftCommitIndex());
        System.out.println("READY");
        System.out.flush();
        // Like `node start --raft`: a member Ratis stopped on its own (its state machine failed) exits, saying why.
        while (true) {
            Thread.sleep(200);
            String why = member.stoppedOnItsOwn();
            if (why != null) {
                System.out.println("STOPPED " + why);
                System.out.flush();
                System.exit(70);
            }
        }
    }
}
