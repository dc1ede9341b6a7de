package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link PairClient} against real node processes: it finds the primary and rides out a failover by itself. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PairClientTest {
    private static final int SEGMENT_BYTES = 256 * 1024;

    @TempDir
    Path tmp;

    @Test
    void writesResumeOnThePromotedBackupWithoutTheApplicationDoingAnything() throws Exception {
        Path secretFile = secretFile();
        PeerSecret secret = PeerSecret.fromFile(secretFile);
        try (NodeProcess a = NodeProcess.start(tmp.resolve("a"), Node.Role.PRIMARY, null, secretFile, SEGMENT_BYTES);
             NodeProcess b = NodeProcess.start(tmp.resolve("b"), Node.Role.BACKUP, a.port, secretFile, SEGMENT_BYTES);
             // The backup first: the client must look past it for the primary.
             PairClient client = PairClient.connect(List.of(b.address(), a.address()), secret,
                     PairClient.Options.defaults().withCallDeadline(Duration.ofSeconds(30)))) {
            for (int i = 0; i < 50; i++) {
                client.put(key(i), value(i), CommitLevel.REMOTE_DURABLE);
            }
            assertThat(client.primary()).isEqualTo(a.address());

            a.kill();
            // The operator (later: the witness) promotes the backup while the client's next write is retrying.
            CompletableFuture<String> promoted = CompletableFuture.supplyAsync(() -> {
                try {
                    Thread.sleep(500);
                    try (NodeClient admin = NodeClient.connect(b.address(), secret, 10_000)) {
                        return admin.promote();
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            client.put(key(50), value(50), CommitLevel.LOCAL);
            assertThat(promoted.get(30, TimeUnit.SECONDS)).contains("epoch");
            assertThat(client.primary()).isEqualTo(b.address());
            for (int i = 0; i <= 50; i++) {
                assertThat(client.get(key(i))).as("key %d", i).isEqualTo(value(i));
            }
            assertThat(client.breakerState(a.address())).as("the dead node is no longer asked every time")
                    .isIn("OPEN", "HALF_OPEN");
        }
    }

    @Test
    void withNoPrimaryACallFailsAtItsDeadlineSayingSo() throws Exception {
        Path secretFile = secretFile();
        PeerSecret secret = PeerSecret.fromFile(secretFile);
        try (NodeProcess a = NodeProcess.start(tmp.resolve("a"), Node.Role.PRIMARY, null, secretFile, SEGMENT_BYTES);
             NodeProcess b = NodeProcess.start(tmp.resolve("b"), Node.Role.BACKUP, a.port, secretFile, SEGMENT_BYTES);
             PairClient client = PairClient.connect(List.of(a.address(), b.address()), secret,
                     PairClient.Options.defaults().withCallDeadline(Duration.ofSeconds(2)))) {
            client.put(key(1), value(1), CommitLevel.LOCAL);
            a.kill();
            assertThatThrownBy(() -> client.put(key(2), value(2), CommitLevel.LOCAL))
                    .isInstanceOf(IOException.class).hasMessageContaining("no primary");
        }
    }

    @Test
    void aWriteWhoseConnectionBreaksAfterItLeftIsNotRetriedWhenTheOptionsSaySo() throws Exception {
        Path secretFile = secretFile();
        PeerSecret secret = PeerSecret.fromFile(secretFile);
        try (Node a = Node.start(NodeConfig.of(tmp.resolve("a"), Node.Role.PRIMARY, NodePairTest.loopback(), null, secret));
             TcpProxy proxy = new TcpProxy(a.listenAddress());
             PairClient client = PairClient.connect(List.of(proxy.address()), secret, new PairClient.Options(
                     Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofMillis(50), Duration.ofMillis(200),
                     Duration.ofSeconds(1)).withoutRetryingUnknownWrites())) {
            client.put(key(1), value(1), CommitLevel.LOCAL);
            proxy.mode(TcpProxy.Mode.BLACKHOLE); // the request leaves, no answer comes back
            assertThatThrownBy(() -> client.put(key(2), value(2), CommitLevel.LOCAL))
                    .isInstanceOf(PairClient.WriteOutcomeUnknownException.class)
                    .hasMessageContaining("may or may not have taken effect");
            proxy.mode(TcpProxy.Mode.PASS);
            proxy.dropConnections();
            assertThat(client.get(key(1))).as("reads are still retried and answered").isEqualTo(value(1));
        }
    }

    private Path secretFile() throws IOException {
        Path secretFile = tmp.resolve("secret");
        Files.writeString(secretFile, "pair-client-test-secret-0123456789\n");
        return secretFile;
    }

    private static byte[] key(int i) {
        return ("pair-" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        return ("value-" + i).getBytes(StandardCharsets.UTF_8);
    }
}
