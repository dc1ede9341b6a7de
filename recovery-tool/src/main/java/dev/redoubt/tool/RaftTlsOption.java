package dev.redoubt.tool;

import dev.redoubt.replication.raft.RaftTls;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --tls-dir DIR}: the group credential of a Raft group, for every command that runs or talks to one. */
final class RaftTlsOption {
    @Option(names = "--tls-dir", paramLabel = "DIR",
            description = "The Raft group's credential (made by `redoubt raft tls-init`): mutual TLS with the members."
                    + " Required by a group started with it; without it, loopback addresses only.")
    Path dir;

    /** The loaded credential, or null when --tls-dir was not given. */
    RaftTls load() {
        return dir == null ? null : RaftTls.load(dir);
    }
}
