package dev.redoubt.tool;

import dev.redoubt.replication.raft.RaftAdmin;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.io.IOException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code redoubt raft ...}: operate a Raft group (status, leadership transfer, membership). */
@Command(name = "raft", mixinStandardHelpOptions = true,
        description = "Operate a Raft group started with `redoubt node start --raft`.",
        subcommands = {RaftAdminCommand.Status.class, RaftAdminCommand.TransferLeader.class, RaftMembershipCommands.AddPeer.class,
            RaftMembershipCommands.RemovePeer.class, RaftTlsInitCommand.class})
final class RaftAdminCommand {
    private RaftAdminCommand() {
    }

    static List<RaftGroupNode.Peer> peers(String spec) {
        try {
            return RaftGroupNode.parsePeers(spec);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--peers: " + e.getMessage());
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Each member's role, term, commit and applied index and last log index; the leader; the",
                "configuration (the members as the group holds them, which may differ from --peers after changes)."})
    static final class Status extends ToolCommand {
        @Option(names = "--peers", required = true, paramLabel = "ID@HOST:PORT,...", description = "Where to reach the group.")
        String peers;

        @Option(names = "--json", description = "One JSON document.")
        boolean json;

        @Mixin
        RaftTlsOption tls;

        @Override
        int run() throws IOException {
            jsonOutput(json);
            RaftAdmin.GroupStatus status;
            try (RaftAdmin admin = RaftAdmin.connect(peers(peers), tls.load())) {
                status = admin.groupStatus();
            }
            List<String> configuration = status.configuration().stream().map(RaftGroupNode.Peer::id).toList();
            if (json) {
                List<Object> list = Json.array();
                for (RaftAdmin.Member m : status.members()) {
                    list.add(Json.object().put("id", m.id()).put("address", m.address()).put("reachable", m.reachable())
                            .put("role", m.role()).put("term", m.term()).put("commitIndex", m.commitIndex())
                            .put("appliedIndex", m.appliedIndex()).put("lastIndex", m.lastIndex())
                            .put("inConfiguration", m.inConfiguration()).put("problem", m.problem()));
                }
                List<Object> conf = Json.array();
                conf.addAll(configuration);
                printJson(Json.object().put("command", "raft status").put("leader", status.leader())
                        .put("configuration", conf).put("changing", status.changing()).put("members", list));
            } else {
                long commit = status.members().stream().mapToLong(RaftAdmin.Member::commitIndex).max().orElse(0);
                out().println("configuration: " + String.join(" ", configuration)
                        + (status.changing() ? " (a membership change is under way)" : ""));
                out().printf("%-8s %-22s %-10s %6s %10s %10s %8s%n", "id", "address", "role", "term", "commit", "applied", "lag");
                for (RaftAdmin.Member m : status.members()) {
                    out().printf("%-8s %-22s %-10s %6d %10d %10d %8s%s%n", m.id(), m.address(), m.role(), m.term(),
                            m.commitIndex(), m.appliedIndex(), m.reachable() ? Long.toString(commit - m.appliedIndex()) : "-",
                            m.inConfiguration() ? "" : "  (not in the configuration)");
                }
                for (RaftAdmin.Member m : status.members()) {
                    if (!m.reachable()) {
                        err().println("redoubt: " + m.id() + " did not answer: " + m.problem());
                    }
                }
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "transfer-leader", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Move leadership to the member --to (it must be caught up)."})
    static final class TransferLeader extends ToolCommand {
        @Option(names = "--peers", required = true, paramLabel = "ID@HOST:PORT,...", description = "Where to reach the group.")
        String peers;

        @Option(names = "--to", required = true, paramLabel = "ID", description = "The member to lead.")
        String to;

        @Option(names = "--timeout-ms", defaultValue = "10000", paramLabel = "MS", description = "How long to wait (default: ${DEFAULT-VALUE}).")
        long timeoutMillis;

        @Mixin
        RaftTlsOption tls;

        @Override
        int run() throws IOException {
            try (RaftAdmin admin = RaftAdmin.connect(peers(peers), tls.load())) {
                admin.transferLeader(to, timeoutMillis);
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
            out().println("leadership moved to " + to);
            return ExitCodes.OK;
        }
    }
}
