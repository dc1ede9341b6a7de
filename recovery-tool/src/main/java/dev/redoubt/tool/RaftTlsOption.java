package dev.redoubt.tool;

import dev.redoubt.replication.raft.RaftTls;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --tls-dir DIR}: the group credential ({@code redoubt raft tls-init}), for every command that runs or
 * talks to a Raft group's members or a node pair's nodes.
 */
final class RaftTlsOption {
    @Option(names = "--tls-dir", paramLabel = "DIR",
            description = "The group credential (made by `redoubt raft tls-init`): mutual TLS with the Raft members or"
                    + " the pair's nodes. Required by nodes started with it; a Raft group without it is loopback only.")
    Path dir;

    /** The loaded credential, or null when --tls-dir was not given. */
    RaftTls load() {
        return dir == null ? null : RaftTls.load(dir);
    }
}
