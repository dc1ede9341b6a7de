package dev.redoubt.tool;

import dev.redoubt.replication.raft.RaftAdmin;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftKvClient;
import dev.redoubt.replication.raft.StaleRead;
import java.io.IOException;
import java.util.List;

/**
 * {@code redoubt kv --group ... get KEY --stale [--from ID] [--min-index N]}: a read from one member without the
 * leader, printed with its bound: the member's applied index and the leader's commit index after the read.
 */
final class KvStaleGet {
    private KvStaleGet() {
    }

    static int run(KvCommand.Get get, String group, byte[] key, String from, Long minIndex) throws IOException {
        if (!get.stale) {
            throw CliException.usage("--from and --min-index go with --stale");
        }
        if (group == null) {
            throw CliException.usage("--stale is for a Raft group (--group)");
        }
        if (minIndex != null && minIndex < 0) {
            throw CliException.usage("--min-index must be >= 0, got " + minIndex);
        }
        List<RaftGroupNode.Peer> peers = RaftAdminCommand.peers(group);
        String member = from != null ? from : follower(peers);
        StaleRead read;
        try (RaftKvClient client = RaftKvClient.connect(peers)) {
            read = client.getStale(key, member, minIndex == null ? 0 : minIndex);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--from: " + e.getMessage());
        }
        byte[] v = read.value();
        if (get.json) {
            get.printJson(Json.object().put("command", "kv get").putBytes("key", key).put("found", v != null)
                    .putBytes("value", v).put("stale", Json.object().put("member", read.member())
                            .put("appliedIndex", read.appliedIndex()).put("leaderCommitIndex", read.leaderCommitIndex())
                            .put("lag", read.lag())));
            return v != null ? ExitCodes.OK : ExitCodes.NOT_FOUND;
        }
        if (v != null) {
            get.out().println(Bytes.format(v, get.hex));
        } else {
            get.err().println("redoubt: key not found on " + read.member() + ": "
                    + (get.hex ? Bytes.hex(key) : Bytes.describe(key)));
        }
        get.err().println(bound(read));
        return v != null ? ExitCodes.OK : ExitCodes.NOT_FOUND;
    }

    static String bound(StaleRead read) {
        String base = "stale read from " + read.member() + " at its applied index " + read.appliedIndex();
        return read.boundKnown()
                ? base + "; the leader's commit index is " + read.leaderCommitIndex() + ": at most " + read.lag()
                        + " committed entries behind"
                : base + "; no leader answered, so the bound is unknown";
    }

    /** The first member in --peers that answers as a follower of the current configuration. */
    private static String follower(List<RaftGroupNode.Peer> peers) {
        try (RaftAdmin admin = RaftAdmin.connect(peers)) {
            return admin.groupStatus().members().stream()
                    .filter(m -> m.reachable() && m.inConfiguration() && "FOLLOWER".equals(m.role()))
                    .filter(m -> peers.stream().anyMatch(p -> p.id().equals(m.id())))
                    .map(RaftAdmin.Member::id).findFirst()
                    .orElseThrow(() -> new CliException(ExitCodes.IO, "no member of --peers answers as a follower:"
                            + " name the member to read from with --from ID"));
        } catch (IOException e) {
            throw new CliException(ExitCodes.IO, "finding a follower: " + e.getMessage(), e);
        }
    }
}
