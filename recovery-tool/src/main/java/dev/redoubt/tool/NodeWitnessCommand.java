package dev.redoubt.tool;

import dev.redoubt.replication.failover.FailoverGroupMember;
import dev.redoubt.replication.failover.FailoverSettings;
import dev.redoubt.replication.raft.RaftTls;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code redoubt node witness}: the third member of a node pair's failover group (docs/pair-failover.md). It
 * holds no data, only the primary record's Raft log, and gives whichever node can reach it the majority that a
 * renewal or a takeover needs.
 */
@Command(name = "witness", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the witness of a node pair with automatic failover, in the foreground until stopped:",
            "the third vote of the pair's failover group (no data, a few KiB of Raft log). Put it where a network",
            "cut cannot take it away from both nodes at once."})
final class NodeWitnessCommand extends ToolCommand {
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The witness' files (the record's Raft log).")
    Path dir;

    @Option(names = "--id", required = true, paramLabel = "ID", description = "This witness' id in --peers.")
    String id;

    @Option(names = "--peers", required = true, paramLabel = "ID@HOST:PORT,...",
            description = "The failover group: both nodes and this witness, at their failover addresses.")
    String peers;

    @Mixin
    NodeFailoverOptions failover;

    @Mixin
    RaftTlsOption tls;

    @Override
    int run() throws InterruptedException {
        if (failover.enabled || failover.groupDir != null || failover.shipBeforeFsync) {
            throw CliException.usage("--auto-failover, --failover-dir and --ship-before-fsync are for a node; the witness"
                    + " keeps its files in --dir");
        }
        FailoverSettings settings = failover.settings(id, peers, dir, false, false);
        RaftTls credential = tls.load();
        FailoverGroupMember member = FailoverGroupMember.start(settings, credential);
        out().println("witness " + id + " of failover group " + settings.groupPeers() + " serving"
                + (credential == null ? " (loopback only, no credential)" : " (mutual TLS, certificate SHA-256 "
                + credential.fingerprint() + ")") + ", lease " + failover.leaseMillis + " ms");
        out().flush();
        NodeCommand.closeOnShutdown(member).await();
        return ExitCodes.OK;
    }
}
