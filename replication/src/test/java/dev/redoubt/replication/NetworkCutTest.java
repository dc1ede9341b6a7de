package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.testsupport.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The link between primary and backup runs through a {@link TcpProxy}: cuts (black hole, dropped connections,
 * slow link), healing, and a split brain, with nodes in this JVM.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NetworkCutTest {
    @TempDir
    Path tmp;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        open.add(c);
        return c;
    }

    private Node node(String name, Node.Role role, java.net.InetSocketAddress primary) {
        return keep(Node.start(NodeConfig.of(tmp.resolve(name), role, NodePairTest.loopback(), primary, NodePairTest.SECRET)
                .withDbOptions(NodePairTest.SMALL).withRemoteTimeoutMillis(800)));
    }

    private static WriteBatch put(String key, String value) {
        return new WriteBatch().put(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aCutFailsRemoteWritesAfterTheTimeoutLocalOnesContinueAndTheBackupCatchesUpAfterTheHeal() throws Exception {
        Node p = node("p", Node.Role.PRIMARY, null);
        TcpProxy link = keep(new TcpProxy(p.listenAddress()));
        Node b = node("b", Node.Role.BACKUP, link.address());
        p.write(put("before", "1"), CommitLevel.REMOTE_DURABLE);
        for (TcpProxy.Mode cut : List.of(TcpProxy.Mode.BLACKHOLE, TcpProxy.Mode.DROP)) {
            link.mode(cut);
            assertThatThrownBy(() -> p.write(put("remote-" + cut, "x"), CommitLevel.REMOTE_DURABLE))
                    .as("%s", cut).isInstanceOf(ReplicationTimeoutException.class);
            for (int i = 0; i < 100; i++) {
                p.write(put("local-" + cut + "-" + i, "v"), CommitLevel.LOCAL);
            }
            link.mode(TcpProxy.Mode.PASS);
            // After the heal the backup reconnects (a black-holed link is noticed by the heartbeat timeout).
            WriteReceipt r = awaitRemote(p, put("after-" + cut, "2"));
            assertThat(r.satisfies(CommitLevel.REMOTE_DURABLE)).isTrue();
            Await.until(() -> b.port().writtenLsn() == p.port().writtenLsn(), "caught up after " + cut);
            assertThat(NodePairTest.scanAll(b.db())).as("after %s", cut).isEqualTo(NodePairTest.scanAll(p.db()));
        }
    }

    @Test
    void aSlowLinkStillReplicatesEverything() throws Exception {
        Node p = node("p", Node.Role.PRIMARY, null);
        TcpProxy link = keep(new TcpProxy(p.listenAddress()));
        Node b = node("b", Node.Role.BACKUP, link.address());
        link.delayMillis(20);
        link.mode(TcpProxy.Mode.SLOW);
        for (int i = 0; i < 300; i++) {
            p.write(put("k" + i, "v" + i), CommitLevel.LOCAL);
        }
        awaitRemote(p, put("last", "x"));
        Await.until(() -> b.port().writtenLsn() == p.port().writtenLsn(), "caught up over a slow link");
        assertThat(NodePairTest.scanAll(b.db())).isEqualTo(NodePairTest.scanAll(p.db()));
    }

    @Test
    void aSplitBrainEndsWithTheOldPrimaryFencedAndItsUnreplicatedWritesReported() throws Exception {
        Node p = node("p", Node.Role.PRIMARY, null);
        TcpProxy link = keep(new TcpProxy(p.listenAddress()));
        Node b = node("b", Node.Role.BACKUP, link.address());
        Set<String> acknowledgedRemote = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            p.write(put("shared-" + i, "v"), CommitLevel.REMOTE_DURABLE);
            acknowledgedRemote.add("shared-" + i);
        }
        link.mode(TcpProxy.Mode.BLACKHOLE);
        b.promote();
        // The old primary, behind the cut, still takes LOCAL writes; its REMOTE_DURABLE writes all fail.
        Set<String> lonely = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            p.write(put("lonely-" + i, "old"), CommitLevel.LOCAL);
            lonely.add("lonely-" + i);
        }
        assertThatThrownBy(() -> p.write(put("lonely-remote", "old"), CommitLevel.REMOTE_DURABLE))
                .isInstanceOf(ReplicationTimeoutException.class);
        b.write(put("new-epoch", "yes"), CommitLevel.LOCAL);
        link.mode(TcpProxy.Mode.PASS);
        Await.until(() -> p.role() == Node.Role.FENCED, "old primary fenced after the heal");
        assertThatThrownBy(() -> p.write(put("after-fence", "x"), CommitLevel.LOCAL))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FENCED));
        p.close();
        Rejoin.Report report = Rejoin.run(tmp.resolve("p"), b.listenAddress(), NodePairTest.SECRET);
        assertThat(report.action()).isEqualTo("truncated");
        Set<String> discarded = new HashSet<>();
        for (byte[] key : report.discardedKeys()) {
            discarded.add(new String(key, StandardCharsets.UTF_8));
        }
        assertThat(discarded).containsAll(lonely).contains("lonely-remote").doesNotContainAnyElementsOf(acknowledgedRemote);
        // Rejoined as a backup, it converges on the new primary's history.
        Node rejoined = node("p", Node.Role.BACKUP, b.listenAddress());
        b.write(put("after-rejoin", "1"), CommitLevel.REMOTE_APPLY);
        assertThat(NodePairTest.scanAll(rejoined.db())).isEqualTo(NodePairTest.scanAll(b.db()));
        assertThat(rejoined.db().get("lonely-0".getBytes(StandardCharsets.UTF_8))).isNull();
    }

    /** Retries a REMOTE_DURABLE write until a backup acknowledges it (after a heal). */
    private static WriteReceipt awaitRemote(Node p, WriteBatch batch) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return p.write(batch, CommitLevel.REMOTE_DURABLE);
            } catch (ReplicationTimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }
}
