package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real node processes on loopback: writers put unique keys at REMOTE_DURABLE while the primary is SIGKILLed at
 * a random moment; the backup is promoted; every acknowledged write must be on the new primary. The dead
 * primary then rejoins ({@link Rejoin}) and becomes the next cycle's backup, so promotion, fencing, divergence
 * reports and bootstrap are exercised every cycle; no discarded record may be one that was acknowledged.
 *
 * <p>{@code -Dredoubt.failover.cycles} (default 20); replay with {@code -Dredoubt.seed}.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class NodeFailoverTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final int CYCLES = Integer.getInteger("redoubt.failover.cycles", 20);
    private static final int SEGMENT_BYTES = 256 * 1024;
    private static final int WRITERS = 3;

    @TempDir
    Path tmp;

    @Test
    void everyWriteAcknowledgedRemoteDurableSurvivesTheKillOfThePrimary() throws Exception {
        Random random = new Random(SEED);
        Path secretFile = tmp.resolve("secret");
        Files.writeString(secretFile, "failover-test-secret-0123456789\n");
        PeerSecret secret = PeerSecret.fromFile(secretFile);
        Path dirA = tmp.resolve("a");
        Path dirB = tmp.resolve("b");
        NodeProcess primary = NodeProcess.start(dirA, Node.Role.PRIMARY, null, secretFile, SEGMENT_BYTES);
        NodeProcess backup = NodeProcess.start(dirB, Node.Role.BACKUP, primary.port, secretFile, SEGMENT_BYTES);
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        long totalDiscarded = 0;
        try {
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                String context = "seed " + SEED + ", cycle " + cycle;
                Set<String> acked = ConcurrentHashMap.newKeySet();
                AtomicBoolean stop = new AtomicBoolean();
                List<Thread> writers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int writer = w;
                    int c = cycle;
                    NodeProcess target = primary;
                    Thread t = new Thread(() -> write(target, secret, c, writer, stop, acked, acknowledged));
                    t.start();
                    writers.add(t);
                }
                Thread.sleep(300 + random.nextInt(1200));
                primary.kill();
                stop.set(true);
                for (Thread t : writers) {
                    t.join(30_000);
                }
                try (NodeClient c = NodeClient.connect(backup.address(), secret, 10_000)) {
                    c.promote();
                    for (String key : acked) {
                        assertThat(c.get(key.getBytes(StandardCharsets.UTF_8))).as("%s: acknowledged key %s", context, key)
                                .isEqualTo(acknowledged.get(key).getBytes(StandardCharsets.UTF_8));
                    }
                }
                assertThat(acked).as(context + ": some writes were acknowledged").isNotEmpty();
                // The dead primary rejoins as the backup of the promoted one.
                Rejoin.Report report = Rejoin.run(primary.dir, backup.address(), secret);
                for (byte[] k : report.discardedKeys()) {
                    assertThat(acknowledged).as("%s: discarded key %s was acknowledged", context,
                            new String(k, StandardCharsets.UTF_8)).doesNotContainKey(new String(k, StandardCharsets.UTF_8));
                }
                if (report.action().equals("truncated")) {
                    long saved = 0;
                    try (dev.redoubt.wal.WalReader r = dev.redoubt.wal.WalReader.open(
                            dev.redoubt.common.FileStorageEnv.INSTANCE,
                            Path.of(report.savedTo()).resolve(dev.redoubt.wal.Wal.WAL_DIR), report.forkLsn())) {
                        while (r.next()) {
                            saved++;
                        }
                    }
                    assertThat(saved).as("%s: the discarded records kept in %s", context, report.savedTo())
                            .isEqualTo(report.discardedRecords());
                }
                totalDiscarded += Math.max(0, report.discardedRecords());
                NodeProcess rejoined = NodeProcess.start(primary.dir, Node.Role.BACKUP, backup.port, secretFile, SEGMENT_BYTES);
                primary = backup;
                backup = rejoined;
            }
            // The last backup converges on everything ever acknowledged.
            try (NodeClient p = NodeClient.connect(primary.address(), secret, 10_000)) {
                p.put("final".getBytes(StandardCharsets.UTF_8), "x".getBytes(StandardCharsets.UTF_8), CommitLevel.REMOTE_APPLY);
            }
            try (NodeClient b = NodeClient.connect(backup.address(), secret, 10_000)) {
                for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                    assertThat(b.get(e.getKey().getBytes(StandardCharsets.UTF_8))).as("seed %d: %s on the last backup", SEED, e.getKey())
                            .isEqualTo(e.getValue().getBytes(StandardCharsets.UTF_8));
                }
            }
            System.out.printf("NodeFailoverTest: %d cycles, %d acknowledged writes kept, %d unacknowledged records discarded"
                    + " by rejoins (seed %d)%n", CYCLES, acknowledged.size(), totalDiscarded, SEED);
        } finally {
            primary.close();
            backup.close();
        }
    }

    private static void write(NodeProcess target, PeerSecret secret, int cycle, int writer, AtomicBoolean stop,
                              Set<String> acked, Map<String, String> acknowledged) {
        try (NodeClient c = NodeClient.connect(target.address(), secret, 5_000)) {
            for (int i = 0; !stop.get(); i++) {
                String key = "c" + cycle + "-w" + writer + "-" + i;
                String value = "v" + i + "-" + key;
                try {
                    c.put(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8), CommitLevel.REMOTE_DURABLE);
                } catch (NodeClient.RemoteWriteException timeout) {
                    continue; // not acknowledged at REMOTE_DURABLE: may or may not survive
                }
                acknowledged.put(key, value);
                acked.add(key);
            }
        } catch (java.io.IOException | RuntimeException e) {
            // the primary died under us: whatever was acknowledged is recorded
        }
    }
}
