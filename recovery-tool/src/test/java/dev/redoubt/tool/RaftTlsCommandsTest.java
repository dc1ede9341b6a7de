package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.replication.raft.RaftTls;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code redoubt raft tls-init}, and {@code --tls-dir} on {@code kv --group} and {@code raft status} against three
 * members in this JVM that hold the credential; the options' misuse is a usage error that says what to do.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RaftTlsCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void tlsInitWritesAnOwnerOnlyCredentialThatAuthenticatesKvAndStatus() throws Exception {
        Path creds = tmp.resolve("creds");
        Cli.Result init = Cli.run("raft", "tls-init", "--dir", creds.toString(), "--validity-days", "30");
        assertThat(init.code()).as("%s", init).isZero();
        assertThat(init.out()).contains("certificate SHA-256 ").contains("--tls-dir");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(creds.resolve(RaftTls.KEYSTORE_FILE))))
                .isEqualTo("rw-------");
        Cli.Result again = Cli.run("raft", "tls-init", "--dir", creds.toString());
        assertThat(again.code()).as("%s", again).isEqualTo(ExitCodes.DATA);
        assertThat(again.err()).contains("already exists");

        RaftTls tls = RaftTls.load(creds);
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
                nodes.add(RaftGroupNode.start(tmp.resolve("n" + i), "n" + i, peers,
                        DbOptions.defaults().walSegmentBytes(256 * 1024), tls));
            }
            String dir = creds.toString();
            Cli.Result put = Cli.run("kv", "--group", spec, "--tls-dir", dir, "put", "k", "v");
            assertThat(put.code()).as("%s", put).isZero();
            Cli.Result get = Cli.run("kv", "--group", spec, "--tls-dir", dir, "get", "k");
            assertThat(get.out().trim()).as("%s", get).isEqualTo("v");
            Cli.Result status = Cli.run("raft", "status", "--peers", spec, "--tls-dir", dir, "--json");
            assertThat(status.out()).as("%s", status).contains("\"role\":\"LEADER\"");

            Cli.Result plain = Cli.run("raft", "status", "--peers", spec, "--json");
            assertThat(plain.out()).as("%s", plain).doesNotContain("LEADER").contains("\"reachable\":false");
        } finally {
            for (RaftGroupNode n : nodes) {
                n.close();
            }
        }
    }

    @Test
    void misusedOptionsAreUsageErrorsThatSayWhatToDo() {
        Path d = tmp.resolve("d");
        Cli.Result secret = Cli.run("node", "start", "--raft", "--id", "n0", "--peers", "n0@127.0.0.1:7000",
                "--dir", d.toString(), "--secret-file", "s");
        assertThat(secret.code()).as("%s", secret).isEqualTo(ExitCodes.USAGE);
        assertThat(secret.err()).contains("--tls-dir");

        Cli.Result remote = Cli.run("node", "start", "--raft", "--id", "n0", "--peers", "n0@192.0.2.1:7000",
                "--dir", d.toString());
        assertThat(remote.code()).as("%s", remote).isEqualTo(ExitCodes.DATA);
        assertThat(remote.err()).contains("not a loopback address").contains("redoubt raft tls-init");

        Cli.Result missing = Cli.run("raft", "status", "--peers", "n0@127.0.0.1:7000", "--tls-dir", tmp.resolve("none").toString());
        assertThat(missing.code()).as("%s", missing).isEqualTo(ExitCodes.NO_INPUT);
        assertThat(missing.err()).contains(RaftTls.KEYSTORE_FILE + " is missing").contains("tls-init");

        Cli.Result noGroup = Cli.run("kv", "--tls-dir", tmp.toString(), "get", tmp.toString(), "k");
        assertThat(noGroup.code()).as("%s", noGroup).isEqualTo(ExitCodes.USAGE);
        assertThat(noGroup.err()).contains("--tls-dir is for --group");

        Cli.Result pairTls = Cli.run("node", "start", "--role", "primary", "--listen", "7000", "--dir", d.toString(),
                "--tls-dir", tmp.toString());
        assertThat(pairTls.code()).as("%s", pairTls).isEqualTo(ExitCodes.USAGE);
        assertThat(Files.exists(d)).isFalse();
    }
}
