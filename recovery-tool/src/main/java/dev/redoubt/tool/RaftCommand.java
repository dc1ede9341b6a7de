package dev.redoubt.tool;

import dev.redoubt.replication.raft.RaftAdmin;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.io.IOException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code redoubt raft ...}: operate a Raft group (status, leadership transfer). */
@Command(name = "raft", mixinStandardHelpOptions = true,
        description = "Operate a Raft group started with `redoubt node start --raft`.",
        subcommands = {RaftCommand.Status.class, RaftCommand.TransferLeader.class, RaftTlsInitCommand.class})
final class RaftCommand {
    private RaftCommand() {
    }

    static List<RaftGroupNode.Peer> peers(String spec) {
        try {
            return RaftGroupNode.parsePeers(spec);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--peers: " + e.getMessage());
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Each member's role, term, commit and applied index and last log index; the leader."})
    static final class Status extends ToolCommand {
        @Option(names = "--peers", required = true, paramLabel = "ID@HOST:PORT,...", description = "The group's members.")
        String peers;

        @Option(names = "--json", description = "One JSON document.")
        boolean json;

        @Mixin
        RaftTlsOption tls;

        @Override
        int run() throws IOException {
            jsonOutput(json);
            List<RaftAdmin.Member> members;
            try (RaftAdmin admin = RaftAdmin.connect(peers(peers), tls.load())) {
                members = admin.status();
            }
            if (json) {
                List<Object> list = Json.array();
                for (RaftAdmin.Member m : members) {
                    list.add(Json.object().put("id", m.id()).put("address", m.address()).put("reachable", m.reachable())
                            .put("role", m.role()).put("term", m.term()).put("commitIndex", m.commitIndex())
                            .put("appliedIndex", m.appliedIndex()).put("lastIndex", m.lastIndex()).put("problem", m.problem()));
                }
                String leader = members.stream().filter(m -> "LEADER".equals(m.role())).map(RaftAdmin.Member::id)
                        .findFirst().orElse(null);
                printJson(Json.object().put("command", "raft status").put("leader", leader).put("members", list));
            } else {
                long commit = members.stream().mapToLong(RaftAdmin.Member::commitIndex).max().orElse(0);
                out().printf("%-8s %-22s %-10s %6s %10s %10s %8s%n", "id", "address", "role", "term", "commit", "applied", "lag");
                for (RaftAdmin.Member m : members) {
                    out().printf("%-8s %-22s %-10s %6d %10d %10d %8s%n", m.id(), m.address(), m.role(), m.term(),
                            m.commitIndex(), m.appliedIndex(), m.reachable() ? Long.toString(commit - m.appliedIndex()) : "-");
                }
                for (RaftAdmin.Member m : members) {
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
        @Option(names = "--peers", required = true, paramLabel = "ID@HOST:PORT,...", description = "The group's members.")
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
