package dev.redoubt.tool;

import dev.redoubt.replication.raft.RaftAdmin;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code redoubt raft add-peer|remove-peer}: change a Raft group's membership one member at a time (Ratis'
 * setConfiguration, joint consensus), refusing a change that could not commit.
 */
final class RaftMembershipCommands {
    private RaftMembershipCommands() {
    }

    /** Options shared by both changes. */
    abstract static class Change extends ToolCommand {
        @Option(names = "--peers", required = true, paramLabel = "ID@HOST:PORT,...", description = "Where to reach the group.")
        String peers;

        @Option(names = "--timeout-ms", defaultValue = "60000", paramLabel = "MS",
                description = "How long an attempt may take, a newcomer's catch-up included (default: ${DEFAULT-VALUE}).")
        long timeoutMillis;

        @picocli.CommandLine.Mixin
        RaftTlsOption tls;

        abstract List<RaftGroupNode.Peer> change(RaftAdmin admin);

        abstract String done();

        @Override
        int run() throws IOException {
            List<RaftGroupNode.Peer> members;
            try (RaftAdmin admin = RaftAdmin.connect(RaftAdminCommand.peers(peers), tls.load())) {
                members = change(admin);
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
            out().println(done() + "; the members are now " + members.stream().map(RaftGroupNode.Peer::id)
                    .collect(Collectors.joining(", ")));
            out().println("--peers " + members.stream().map(p -> p.id() + "@" + p.address().getHostString() + ":"
                    + p.address().getPort()).collect(Collectors.joining(",")));
            return ExitCodes.OK;
        }
    }

    @Command(name = "add-peer", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Add one member. Start it first, on an empty directory, with",
                "`redoubt node start --raft --join --id ID --peers <every member, itself included>`: it waits until",
                "added, then catches up from the leader before the change commits. Prints the new --peers list."})
    static final class AddPeer extends Change {
        @Option(names = "--add", required = true, paramLabel = "ID@HOST:PORT", description = "The newcomer.")
        String add;

        private String id;

        @Override
        List<RaftGroupNode.Peer> change(RaftAdmin admin) {
            List<RaftGroupNode.Peer> parsed;
            try {
                parsed = RaftGroupNode.parsePeers(add);
            } catch (IllegalArgumentException e) {
                throw CliException.usage("--add: " + e.getMessage());
            }
            if (parsed.size() != 1) {
                throw CliException.usage("--add takes one ID@HOST:PORT (one member at a time), got " + parsed.size());
            }
            id = parsed.get(0).id();
            return admin.addPeer(parsed.get(0), timeoutMillis);
        }

        @Override
        String done() {
            return "added " + id;
        }
    }

    @Command(name = "remove-peer", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Remove one member (the leader too: it steps down once the change commits). Then stop the",
                "removed member's node; to bring it back, add it again with --join on an empty directory.",
                "Prints the new --peers list."})
    static final class RemovePeer extends Change {
        @Option(names = "--remove", required = true, paramLabel = "ID", description = "The member to remove.")
        String remove;

        @Override
        List<RaftGroupNode.Peer> change(RaftAdmin admin) {
            return admin.removePeer(remove, timeoutMillis);
        }

        @Override
        String done() {
            return "removed " + remove + " (stop its node now)";
        }
    }
}
