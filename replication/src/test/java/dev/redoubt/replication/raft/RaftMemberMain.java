package dev.redoubt.replication.raft;

import dev.redoubt.engine.DbOptions;
import java.nio.file.Path;

/**
 * A Raft member in its own JVM for the process tests: {@code RaftMemberMain DIR ID PEERS LISTEN_PORT}. Starts the
 * member (small WAL segments and memtables, so flushes and segment rolls happen during short runs), prints
 * {@code READY}, and runs until killed.
 */
public final class RaftMemberMain {
    static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024);

    private RaftMemberMain() {
    }

    public static void main(String[] args) throws Exception {
        RaftGroupNode.start(Path.of(args[0]), args[1], RaftGroupNode.parsePeers(args[2]), Integer.parseInt(args[3]), SMALL);
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }
}
