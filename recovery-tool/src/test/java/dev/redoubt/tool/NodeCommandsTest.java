package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.CommitLevel;
import dev.redoubt.replication.Node;
import dev.redoubt.replication.NodeConfig;
import dev.redoubt.replication.PeerSecret;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code redoubt node status|promote|rejoin} and {@code redoubt kv --node} against nodes in this JVM. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodeCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void aListenPortAloneMeansTheLoopbackAddress() {
        assertThat(NodeCommand.address("7401", "--listen")).isEqualTo(new InetSocketAddress("127.0.0.1", 7401));
        assertThat(NodeCommand.address("0.0.0.0:7401", "--listen").getPort()).isEqualTo(7401);
        assertThat(Cli.run("node", "status", "--node", "nohost:", "--secret-file", "x").code()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void kvThroughANodeStatusPromoteAndRejoin() throws Exception {
        Path secretFile = tmp.resolve("secret");
        Files.writeString(secretFile, "cli-node-test-secret-0123456789\n");
        PeerSecret secret = PeerSecret.fromFile(secretFile);
        DbOptions small = DbOptions.defaults().walSegmentBytes(64 * 1024);
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        Node primary = Node.start(NodeConfig.of(tmp.resolve("p"), Node.Role.PRIMARY, any, null, secret).withDbOptions(small));
        Node backup = Node.start(NodeConfig.of(tmp.resolve("b"), Node.Role.BACKUP, any, primary.listenAddress(), secret)
                .withDbOptions(small));
        String p = "127.0.0.1:" + primary.listenAddress().getPort();
        String b = "127.0.0.1:" + backup.listenAddress().getPort();
        String s = secretFile.toString();
        try {
            Cli.Result put = Cli.run("kv", "--node", p, "--secret-file", s, "put", "k1", "v1", "--commit", "REMOTE_APPLY");
            assertThat(put.code()).as("%s", put).isZero();
            assertThat(put.out()).contains("reached REMOTE_APPLIED");
            Cli.Result get = Cli.run("kv", "--node", b, "--secret-file", s, "get", "k1");
            assertThat(get.out().trim()).as("%s", get).isEqualTo("v1");
            assertThat(Cli.run("kv", "--node", b, "--secret-file", s, "get", "absent").code()).isEqualTo(ExitCodes.NOT_FOUND);
            Cli.Result refused = Cli.run("kv", "--node", b, "--secret-file", s, "put", "k2", "v2");
            assertThat(refused.code()).as("%s", refused).isEqualTo(ExitCodes.DATA);
            assertThat(refused.err()).contains("backup");
            Cli.Result scan = Cli.run("kv", "--node", b, "--secret-file", s, "scan", "--json");
            assertThat(scan.out()).contains("\"count\":1");
            Cli.Result status = Cli.run("node", "status", "--node", p, "--secret-file", s, "--json");
            assertThat(status.out()).contains("\"role\":\"PRIMARY\"").contains("\"connected\":true");
            Cli.Result noSecret = Cli.run("kv", "--node", p, "get", "k1");
            assertThat(noSecret.code()).isEqualTo(ExitCodes.USAGE);

            // The primary writes something only it has, then the backup is promoted: that write diverges.
            primary.write(new dev.redoubt.engine.WriteBatch().put("lonely".getBytes(), "x".getBytes()), CommitLevel.LOCAL);
            Thread.sleep(200);
            Cli.Result promote = Cli.run("node", "promote", "--node", b, "--secret-file", s);
            assertThat(promote.out()).as("%s", promote).contains("promoted to primary at epoch 1");
        } finally {
            primary.close();
        }
        Cli.Result rejoin = Cli.run("node", "rejoin", "--dir", tmp.resolve("p").toString(), "--primary", b,
                "--secret-file", s, "--json");
        backup.close();
        assertThat(rejoin.code()).as("%s", rejoin).isZero();
        // "lonely" was shipped before the promotion (the backup had it durable), or it is discarded now.
        assertThat(rejoin.out()).contains("\"command\":\"node rejoin\"");
    }
}
