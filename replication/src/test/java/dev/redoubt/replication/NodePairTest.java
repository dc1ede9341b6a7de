package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.KeyValue;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.testsupport.Await;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two nodes in one JVM on loopback: streaming, commit levels, promotion and fencing. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodePairTest {
    static final PeerSecret SECRET = PeerSecret.of("pair-test-secret-0123456789".getBytes(StandardCharsets.UTF_8));
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(64 * 1024).memtableBytes(256 * 1024);

    @TempDir
    Path tmp;

    private final List<Node> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        for (Node n : nodes) {
            n.close();
        }
    }

    private Node primary(Path dir) {
        Node n = Node.start(NodeConfig.of(dir, Node.Role.PRIMARY, loopback(), null, SECRET)
                .withDbOptions(SMALL).withRemoteTimeoutMillis(1_000));
        nodes.add(n);
        return n;
    }

    private Node backup(Path dir, Node of) {
        Node n = Node.start(NodeConfig.of(dir, Node.Role.BACKUP, loopback(), of.listenAddress(), SECRET)
                .withDbOptions(SMALL).withRemoteTimeoutMillis(1_000));
        nodes.add(n);
        return n;
    }

    static InetSocketAddress loopback() {
        return new InetSocketAddress("127.0.0.1", 0);
    }

    @Test
    void aBackupHoldsExactlyThePrimarysDataAtTheSameLsn() throws Exception {
        Node p = primary(tmp.resolve("p"));
        Random random = new Random(SEED);
        // Some history before the backup exists, crossing segments and memtable flushes.
        for (int i = 0; i < 3_000; i++) {
            p.write(new WriteBatch().put(key(random.nextInt(2_000)), value(random, i)), CommitLevel.LOCAL);
        }
        Node b = backup(tmp.resolve("b"), p);
        for (int i = 0; i < 2_000; i++) {
            WriteBatch batch = new WriteBatch().put(key(random.nextInt(2_000)), value(random, i));
            if (i % 10 == 0) {
                batch.delete(key(random.nextInt(2_000)));
            }
            WriteReceipt r = p.write(batch, i % 2 == 0 ? CommitLevel.REMOTE_DURABLE : CommitLevel.REMOTE_APPLY);
            assertThat(r.satisfies(CommitLevel.REMOTE_DURABLE)).as("seed %d", SEED).isTrue();
        }
        Await.until(() -> b.port().writtenLsn() == p.port().writtenLsn(), "backup caught up");
        assertThat(scanAll(b.db())).as("seed %d", SEED).isEqualTo(scanAll(p.db()));
        NodeStatus status = p.status();
        assertThat(status.backups()).singleElement().satisfies(s -> {
            assertThat(s.connected()).isTrue();
            assertThat(s.durableLsn()).isEqualTo(p.port().durableLsn());
        });
        assertThat(b.status().primary().connected()).isTrue();
    }

    @Test
    void aBackupRefusesWritesAndServesReads() throws Exception {
        Node p = primary(tmp.resolve("p"));
        Node b = backup(tmp.resolve("b"), p);
        p.write(new WriteBatch().put(key(1), bytes("one")), CommitLevel.REMOTE_APPLY);
        assertThat(b.db().get(key(1))).isEqualTo(bytes("one"));
        assertThatThrownBy(() -> b.write(new WriteBatch().put(key(2), bytes("x")), CommitLevel.LOCAL))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                .hasMessageContaining("backup");
        try (NodeClient c = NodeClient.connect(b.listenAddress(), SECRET, 2_000)) {
            assertThat(c.get(key(1))).isEqualTo(bytes("one"));
            assertThatThrownBy(() -> c.put(key(2), bytes("x"), CommitLevel.LOCAL)).hasMessageContaining("backup");
        }
    }

    @Test
    void aRemoteLevelWithoutABackupFailsAfterTheTimeoutAndSaysWhatItReached() {
        Node p = primary(tmp.resolve("p"));
        assertThatThrownBy(() -> p.write(new WriteBatch().put(key(1), bytes("v")), CommitLevel.REMOTE_DURABLE))
                .isInstanceOfSatisfying(ReplicationTimeoutException.class, e -> {
                    assertThat(e.receipt().reached()).isEqualTo(WriteReceipt.Reached.LOCAL_DURABLE);
                    assertThat(e.getMessage()).contains("no backup is connected").contains("REMOTE_DURABLE");
                });
        WriteReceipt local = p.write(new WriteBatch().put(key(2), bytes("v")), CommitLevel.LOCAL);
        assertThat(local.reached()).isEqualTo(WriteReceipt.Reached.LOCAL_DURABLE);
    }

    @Test
    void promotionStartsANewEpochAtTheForkAndFencesTheFormerPrimary() throws Exception {
        Node p = primary(tmp.resolve("p"));
        Node b = backup(tmp.resolve("b"), p);
        for (int i = 0; i < 200; i++) {
            p.write(new WriteBatch().put(key(i), bytes("v" + i)), CommitLevel.REMOTE_DURABLE);
        }
        long end = p.port().writtenLsn();
        Await.until(() -> b.port().writtenLsn() == end, "backup caught up");
        EpochHistory.Entry promoted = b.promote();
        assertThat(promoted.epoch()).isEqualTo(1);
        assertThat(promoted.startLsn()).isEqualTo(end);
        assertThat(b.history().entries()).containsExactly(new EpochHistory.Entry(0, 0), promoted);
        WriteReceipt r = b.write(new WriteBatch().put(key(1), bytes("new")), CommitLevel.LOCAL);
        assertThat(r.lsn()).isGreaterThan(end);
        Await.until(() -> p.role() == Node.Role.FENCED, "former primary fenced");
        assertThatThrownBy(() -> p.write(new WriteBatch().put(key(1), bytes("old")), CommitLevel.LOCAL))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FENCED))
                .hasMessageContaining("rejoin");
        for (int i = 0; i < 200; i++) {
            assertThat(b.db().get(key(i))).isEqualTo(bytes(i == 1 ? "new" : "v" + i));
        }
    }

    @Test
    void aBackupThatRestartsContinuesFromItsOwnEnd() throws Exception {
        Node p = primary(tmp.resolve("p"));
        Node b = backup(tmp.resolve("b"), p);
        for (int i = 0; i < 300; i++) {
            p.write(new WriteBatch().put(key(i), bytes("a" + i)), CommitLevel.REMOTE_DURABLE);
        }
        b.close();
        nodes.remove(b);
        for (int i = 0; i < 300; i++) {
            p.write(new WriteBatch().put(key(i), bytes("b" + i)), CommitLevel.LOCAL);
        }
        Node again = backup(tmp.resolve("b"), p);
        p.write(new WriteBatch().put(key(999), bytes("last")), CommitLevel.REMOTE_APPLY);
        assertThat(scanAll(again.db())).isEqualTo(scanAll(p.db()));
    }

    @Test
    void aBackupWithADamagedRecordInItsOwnWalRefetchesItFromThePrimary() throws Exception {
        Node p = primary(tmp.resolve("p"));
        Node b = backup(tmp.resolve("b"), p);
        for (int i = 0; i < 200; i++) {
            p.write(new WriteBatch().put(key(i), bytes("v" + i)), CommitLevel.REMOTE_DURABLE);
        }
        long end = b.port().writtenLsn();
        b.close();
        nodes.remove(b);
        // Flip a byte inside a record in the middle of the backup's last segment.
        Path segment;
        try (var files = java.nio.file.Files.list(tmp.resolve("b").resolve("wal"))) {
            segment = files.filter(f -> f.toString().endsWith(".wal")).sorted().reduce((a, c) -> c).orElseThrow();
        }
        long base = Long.parseLong(segment.getFileName().toString().replace(".wal", ""));
        long at = Math.max(base, end - 2_000) - base + 50;
        try (var ch = java.nio.channels.FileChannel.open(segment, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            ch.read(one, at);
            one.flip();
            one.put(0, (byte) (one.get(0) ^ 0x40));
            ch.write(one, at);
        }
        Node again = backup(tmp.resolve("b"), p);
        p.write(new WriteBatch().put(key(999), bytes("last")), CommitLevel.REMOTE_APPLY);
        assertThat(again.port().writtenLsn()).isEqualTo(p.port().writtenLsn());
        assertThat(scanAll(again.db())).isEqualTo(scanAll(p.db()));
    }

    // ------------------------------------------------------------------------------------------ helpers

    static byte[] key(int i) {
        return String.format("key-%06d", i).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(Random random, int i) {
        byte[] v = new byte[10 + random.nextInt(200)];
        random.nextBytes(v);
        v[0] = (byte) i;
        return v;
    }

    static List<String> scanAll(Db db) {
        List<String> out = new ArrayList<>();
        try (var it = db.scan(null, null)) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                out.add(new String(kv.key(), StandardCharsets.UTF_8) + "=" + Arrays.hashCode(kv.value()) + "/" + kv.value().length);
            }
        }
        return out;
    }

}
