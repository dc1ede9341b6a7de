package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code redoubt kv --group} (get, put, delete, paged scans, stale reads with their bound) and
 * {@code redoubt raft status|transfer-leader} against three members in this JVM.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RaftCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void kvThroughTheGroupStatusAndLeadershipTransfer() throws Exception {
        List<RaftGroupNode.Peer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                peers.add(new RaftGroupNode.Peer("n" + i, new InetSocketAddress("127.0.0.1", s.getLocalPort())));
            }
        }
        String spec = peers.stream().map(p -> p.id() + "@127.0.0.1:" + p.address().getPort()).collect(Collectors.joining(","));
        List<RaftGroupNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                nodes.add(RaftGroupNode.start(tmp.resolve("n" + i), "n" + i, peers, DbOptions.defaults().walSegmentBytes(256 * 1024)));
            }
            Cli.Result put = Cli.run("kv", "--group", spec, "put", "k", "v");
            assertThat(put.code()).as("%s", put).isZero();
            assertThat(put.out()).contains("committed at Raft index");
            Cli.Result get = Cli.run("kv", "--group", spec, "get", "k");
            assertThat(get.out().trim()).as("%s", get).isEqualTo("v");
            assertThat(Cli.run("kv", "--group", spec, "delete", "k").code()).isZero();
            assertThat(Cli.run("kv", "--group", spec, "get", "k").code()).isEqualTo(ExitCodes.NOT_FOUND);

            Cli.Result status = Cli.run("raft", "status", "--peers", spec, "--json");
            assertThat(status.code()).as("%s", status).isZero();
            assertThat(status.out()).contains("\"command\":\"raft status\"").contains("\"role\":\"LEADER\"")
                    .contains("\"id\":\"n0\"").contains("\"id\":\"n2\"");
            // A transfer can end with another member elected (Ratis: DIFFERENT_LEADER) when a busy machine delays
            // the target's election; the command then fails with that reason, and a retry from the new state works.
            String other = null;
            Cli.Result transfer = null;
            for (int attempt = 0; attempt < 5 && (transfer == null || transfer.code() != 0); attempt++) {
                String now = Cli.run("raft", "status", "--peers", spec, "--json").out();
                String leader = now.replaceAll(".*\"leader\":\"(n[0-9])\".*\\s*", "$1");
                other = leader.equals("n0") ? "n1" : "n0";
                transfer = Cli.run("raft", "transfer-leader", "--peers", spec, "--to", other);
                if (transfer.code() != 0) {
                    assertThat(transfer.err()).as("%s", transfer).contains("leader");
                }
            }
            assertThat(transfer.code()).as("%s", transfer).isZero();
            assertThat(Cli.run("raft", "status", "--peers", spec, "--json").out()).contains("\"leader\":\"" + other + "\"");
            assertThat(Cli.run("raft", "status", "--peers", spec).out()).contains("LEADER");

            assertThat(Cli.run("raft", "status", "--peers", "n0@nowhere").code()).isEqualTo(ExitCodes.USAGE);
        } finally {
            for (RaftGroupNode n : nodes) {
                n.close();
            }
        }
    }

    @Test
    void scansAndStaleReadsThroughTheGroup() throws Exception {
        try (RaftCliGroup g = new RaftCliGroup(tmp, 3, 3)) {
            String spec = g.spec("n0", "n1", "n2");
            String put = "";
            for (String k : new String[] {"a", "b", "c", "d"}) {
                Cli.Result r = Cli.run("kv", "--group", spec, "put", k, "v-" + k);
                assertThat(r.code()).as("%s", r).isZero();
                put = r.out();
            }
            Cli.Result scan = Cli.run("kv", "--group", spec, "scan");
            assertThat(scan.code()).as("%s", scan).isZero();
            assertThat(scan.out()).isEqualTo("a\tv-a\nb\tv-b\nc\tv-c\nd\tv-d\n");
            assertThat(Cli.run("kv", "--group", spec, "scan", "--from", "b", "--to", "d", "--keys-only").out()).isEqualTo("b\nc\n");
            assertThat(Cli.run("kv", "--group", spec, "scan", "--limit", "3", "--json").out()).contains("\"count\":3");

            String index = put.replaceAll("(?s).*committed at Raft index ([0-9]+).*", "$1");
            Cli.Result stale = Cli.run("kv", "--group", spec, "get", "d", "--stale", "--min-index", index);
            assertThat(stale.code()).as("%s", stale).isZero();
            assertThat(stale.out().trim()).isEqualTo("v-d");
            assertThat(stale.err()).contains("stale read from n").contains("applied index").contains("leader's commit index");
            Cli.Result json = Cli.run("kv", "--group", spec, "get", "d", "--stale", "--from", "n1", "--json");
            assertThat(json.out()).contains("\"stale\":{\"member\":\"n1\"").contains("\"lag\":");

            Cli.Result tooFar = Cli.run("kv", "--group", spec, "get", "d", "--stale", "--from", "n1", "--min-index", "999999");
            assertThat(tooFar.code()).as("%s", tooFar).isEqualTo(ExitCodes.DATA);
            assertThat(tooFar.err()).contains("minimum index 999999");
            assertThat(Cli.run("kv", "--group", spec, "get", "d", "--from", "n1").code()).isEqualTo(ExitCodes.USAGE);
            assertThat(Cli.run("kv", "--group", spec, "get", "d", "--stale", "--from", "n9").code()).isEqualTo(ExitCodes.USAGE);
        }
    }
}
