package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.replication.failover.FailoverGroupMember;
import dev.redoubt.replication.failover.FailoverSettings;
import dev.redoubt.replication.failover.LeaseClock;
import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.testsupport.Await;
import dev.redoubt.testsupport.FreePorts;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Automatic failover of a node pair in one JVM (docs/pair-failover.md): two nodes and a witness, the primary
 * record in their failover group. The backup takes over only after the primary stopped renewing, a primary cut
 * off from the group stops accepting writes when its lease runs out, a former primary rejoins by itself, and an
 * operator's promotion through the record never lets two nodes accept writes at the same time.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PairFailoverTest {
    private static final int LEASE_MILLIS = 2_000;

    @TempDir
    Path tmp;

    private final Map<String, InetSocketAddress> groupAt = new HashMap<>();
    private final Map<String, InetSocketAddress> dataAt = new HashMap<>();
    private final List<AutoCloseable> running = new ArrayList<>();
    private FailoverGroupMember witness;

    @BeforeEach
    void addresses() {
        for (String id : List.of("a", "b", "w")) {
            groupAt.put(id, new InetSocketAddress("127.0.0.1", FreePorts.loopback()));
        }
        dataAt.put("a", new InetSocketAddress("127.0.0.1", FreePorts.loopback()));
        dataAt.put("b", new InetSocketAddress("127.0.0.1", FreePorts.loopback()));
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : running) {
            c.close();
        }
    }

    private List<RaftGroupNode.Peer> group() {
        return List.of(new RaftGroupNode.Peer("a", groupAt.get("a")), new RaftGroupNode.Peer("b", groupAt.get("b")),
                new RaftGroupNode.Peer("w", groupAt.get("w")));
    }

    private FailoverSettings settings(String self, boolean claimEmpty) {
        String other = self.equals("a") ? "b" : "a";
        RaftGroupNode.Peer partner = self.equals("w") ? null : new RaftGroupNode.Peer(other, dataAt.get(other));
        return new FailoverSettings(self, group(), partner, tmp.resolve(self + ".failover"), LeaseClock.of(LEASE_MILLIS),
                claimEmpty);
    }

    private FailoverGroupMember startWitness() {
        witness = FailoverGroupMember.start(settings("w", false), null);
        running.add(witness);
        return witness;
    }

    private Node startNode(String id, boolean claimEmpty) {
        Node n = Node.start(NodeConfig.withAutoFailover(tmp.resolve(id), dataAt.get(id), NodePairTest.SECRET,
                settings(id, claimEmpty)).withDbOptions(NodePairTest.SMALL).withRemoteTimeoutMillis(2_000));
        running.add(n);
        return n;
    }

    private static byte[] key(int i) {
        return ("key-" + i).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theBackupTakesOverOnlyAfterThePrimaryStopsRenewingAndTheFormerPrimaryRejoinsByItself() throws Exception {
        startWitness();
        Node a = startNode("a", true);
        Node b = startNode("b", false);
        Await.until(() -> a.role() == Node.Role.PRIMARY, "a claims the empty record");
        Await.until(() -> b.streamsFrom(dataAt.get("a")), "b streams from a");
        long firstEpoch = a.epoch();
        for (int i = 0; i < 100; i++) {
            a.write(new WriteBatch().put(key(i), key(i)), CommitLevel.REMOTE_DURABLE);
        }
        assertThat(b.role()).isEqualTo(Node.Role.BACKUP);
        assertThat(b.status().failover().holder()).isEqualTo("a");

        // a's last renewal is sent before it stops; its lease ends at most a holder's lease after that.
        long stoppingAt = System.nanoTime();
        a.close();
        running.remove(a);
        Await.until(() -> b.role() == Node.Role.PRIMARY, "b takes over");
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppingAt);
        LeaseClock clock = LeaseClock.of(LEASE_MILLIS);
        long holderLeaseMillis = TimeUnit.NANOSECONDS.toMillis(clock.holderValidUntil(0));
        assertThat(tookMillis).as("b took over only after a's lease had surely run out").isGreaterThan(holderLeaseMillis);
        assertThat(b.epoch()).isEqualTo(firstEpoch + 1);
        for (int i = 0; i < 100; i++) {
            assertThat(b.db().get(key(i))).as("acknowledged REMOTE_DURABLE write %d", i).isEqualTo(key(i));
        }
        b.write(new WriteBatch().put(key(1_000), key(1_000)), CommitLevel.LOCAL);

        Node back = startNode("a", true);
        Await.until(() -> back.streamsFrom(dataAt.get("b")), "the former primary rejoins as b's backup");
        Await.until(() -> back.db().get(key(1_000)) != null, "the former primary receives b's write");
        assertThat(back.role()).isEqualTo(Node.Role.BACKUP);
        assertThat(back.status().failover().holder()).isEqualTo("b");
        assertThatThrownBy(() -> back.write(new WriteBatch().put(key(1), key(2)), CommitLevel.LOCAL))
                .isInstanceOf(StorageException.class);
    }

    @Test
    void aPrimaryCutOffFromTheGroupRefusesWritesUntilARenewalCommitsAgain() throws Exception {
        startWitness();
        Node a = startNode("a", true);
        Node b = startNode("b", false);
        Await.until(() -> a.role() == Node.Role.PRIMARY, "a claims the empty record");
        Await.until(() -> a.status().failover().leaseValidForMillis() > 0, "a holds a lease");
        a.write(new WriteBatch().put(key(1), key(1)), CommitLevel.LOCAL);

        // No majority for a: its renewals cannot commit, its lease runs out on its own clock.
        b.close();
        running.remove(b);
        witness.close();
        running.remove(witness);
        Await.until(() -> refusedAsFenced(a), "a refuses writes once its lease ran out");
        assertThat(a.status().failover().leaseValidForMillis()).isZero();
        assertThat(a.role()).as("still the record's holder, only without a lease").isEqualTo(Node.Role.PRIMARY);

        startWitness();
        Await.until(() -> !refusedAsFenced(a), "a renewal through the witness gives a its lease back");
        assertThat(a.db().get(key(1))).isEqualTo(key(1));
    }

    @Test
    void anOperatorsPromotionThroughTheRecordNeverOverlapsTheFormerPrimarysWrites() throws Exception {
        startWitness();
        Node a = startNode("a", true);
        Node b = startNode("b", false);
        Await.until(() -> a.role() == Node.Role.PRIMARY, "a claims the empty record");
        Await.until(() -> b.streamsFrom(dataAt.get("a")), "b streams from a");

        // Writers hammer both nodes: the last write a acknowledged must return before b's first accepted one began.
        AtomicLong lastAckOnA = new AtomicLong(Long.MIN_VALUE);
        AtomicLong firstStartOnB = new AtomicLong(Long.MAX_VALUE);
        AtomicBoolean stop = new AtomicBoolean();
        Thread onA = writer(a, stop, (start, end) -> lastAckOnA.accumulateAndGet(end, Math::max));
        Thread onB = writer(b, stop, (start, end) -> firstStartOnB.accumulateAndGet(start, Math::min));
        Thread.sleep(300);
        String message = b.promoteForOperator();
        assertThat(message).contains("failover group");
        Await.until(() -> b.role() == Node.Role.PRIMARY, "b serves after the wait");
        Await.until(() -> a.streamsFrom(dataAt.get("b")), "a rejoins as b's backup");
        stop.set(true);
        onA.join();
        onB.join();
        assertThat(lastAckOnA.get()).as("a acknowledged writes before the promotion").isNotEqualTo(Long.MIN_VALUE);
        assertThat(firstStartOnB.get()).as("b accepted writes after it").isNotEqualTo(Long.MAX_VALUE);
        assertThat(lastAckOnA.get()).as("a's last acknowledgement precedes b's first accepted write")
                .isLessThan(firstStartOnB.get());
    }

    private interface Acked {
        void at(long startNanos, long endNanos);
    }

    private static Thread writer(Node node, AtomicBoolean stop, Acked acked) {
        Thread t = new Thread(() -> {
            int i = 0;
            while (!stop.get()) {
                long start = System.nanoTime();
                try {
                    node.write(new WriteBatch().put(key(i), key(i)), CommitLevel.LOCAL);
                    acked.at(start, System.nanoTime());
                } catch (RuntimeException e) {
                    // refused (not the primary now), or the database closed under a rejoin
                }
                i++;
            }
        });
        t.start();
        return t;
    }

    private static boolean refusedAsFenced(Node node) {
        try {
            node.write(new WriteBatch().put(key(0), key(0)), CommitLevel.LOCAL);
            return false;
        } catch (StorageException e) {
            return e.code() == ErrorCode.FENCED;
        }
    }
}
