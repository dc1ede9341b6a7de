package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.wal.Durability;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real crashes: a child JVM writes batches while flushes, compactions and manifest switches run, and is killed
 * with SIGKILL at a random moment; the database is reopened here and checked: every acknowledged batch is
 * present with its exact values, and no batch is partly applied. The same directory goes through every cycle.
 */
class DbKillTest {
    private static final int CYCLES = Integer.getInteger("redoubt.kill.cycles", 30);
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path dir;

    @Test
    @Timeout(600)
    void everyAcknowledgedBatchSurvivesSigkillAndNoBatchIsPartial() throws Exception {
        Random random = new Random(SEED);
        Map<Integer, Long> lastAcked = new HashMap<>();
        List<long[]> acked = new ArrayList<>();
        long nextBatch = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Durability durability = cycle % 3 == 2 ? Durability.ASYNC : Durability.SYNC;
            // Every fifth cycle the kill is timed from the child's start, so it can land inside the open:
            // redo, orphan removal, and the manifest rewrite and CURRENT switch.
            boolean duringOpen = cycle % 5 == 4;
            long killAfterMs = duringOpen ? random.nextInt(700) : 150 + random.nextInt(900);
            List<long[]> cycleAcks = runChild(4, durability, nextBatch, killAfterMs, duringOpen);
            nextBatch += 100_000_000L;
            acked.addAll(cycleAcks);
            for (long[] a : cycleAcks) {
                lastAcked.merge((int) a[0], a[1], Math::max);
            }
            String context = "seed " + SEED + " cycle " + cycle + " (" + durability + ", kill after " + killAfterMs
                    + " ms); replay: -Dredoubt.seed=" + SEED;
            try (Db db = Db.open(dir, DbCrashChild.options())) {
                verify(db, acked, lastAcked, context);
            }
        }
        assertThat(acked).as("the children acknowledged batches").hasSizeGreaterThan(CYCLES);
    }

    private static void verify(Db db, List<long[]> acked, Map<Integer, Long> lastAcked, String context) {
        for (long[] a : acked) {
            int w = (int) a[0];
            byte[] expected = DbCrashChild.value(w, a[1]);
            assertThat(db.get(DbCrashChild.key(w, a[1], 'a'))).as("%s: acknowledged batch %d of writer %d", context, a[1], w)
                    .isEqualTo(expected);
            assertThat(db.get(DbCrashChild.key(w, a[1], 'b'))).as(context).isEqualTo(expected);
        }
        for (Map.Entry<Integer, Long> e : lastAcked.entrySet()) {
            byte[] last = db.get(DbCrashChild.lastKey(e.getKey()));
            assertThat(last).as(context).isNotNull();
            assertThat(Long.parseLong(new String(last, StandardCharsets.UTF_8))).as(context).isGreaterThanOrEqualTo(e.getValue());
        }
        // No partial batch: every batch found has both halves, equal.
        Map<String, byte[]> halves = new HashMap<>();
        try (DbIterator it = db.scan(null, null)) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                String k = new String(kv.key(), StandardCharsets.UTF_8);
                if (k.endsWith("/a") || k.endsWith("/b")) {
                    String batch = k.substring(0, k.length() - 2);
                    byte[] other = halves.remove(batch);
                    if (other == null) {
                        halves.put(batch, kv.value());
                    } else {
                        assertThat(Arrays.equals(other, kv.value())).as("%s: halves of %s differ", context, batch).isTrue();
                    }
                }
            }
        }
        assertThat(halves.keySet()).as("%s: batches with one half only", context).isEmpty();
    }

    private List<long[]> runChild(int writers, Durability durability, long first, long killAfterMs, boolean duringOpen)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (String flag : System.getProperty("redoubt.jvm.flags", "").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"), DbCrashChild.class.getName(),
                dir.toString(), Integer.toString(writers), durability.name(), Long.toString(first)));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<long[]> acks = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("READY")) {
                        ready.countDown();
                    } else if (line.startsWith("ACK ")) {
                        String[] f = line.split(" ");
                        if (f.length == 3) {
                            synchronized (acks) {
                                acks.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                            }
                        }
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // killed mid-line: what was read is what was acknowledged
            }
        });
        reader.start();
        try {
            if (!duringOpen) {
                assertThat(ready.await(60, TimeUnit.SECONDS)).as("child started").isTrue();
            }
            if (first == 0 && !duringOpen) {
                // Another process holds the database: a second open fails at once, naming the cause.
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> Db.open(dir, DbCrashChild.options()))
                        .isInstanceOfSatisfying(dev.redoubt.common.StorageException.class, e -> {
                            assertThat(e.code()).isEqualTo(dev.redoubt.common.ErrorCode.LOCKED);
                            assertThat(e.getMessage()).contains("another process");
                        });
            }
            Thread.sleep(killAfterMs);
        } finally {
            child.destroyForcibly();
            child.waitFor();
            reader.join();
        }
        return snapshotOf(acks);
    }

    private static List<long[]> snapshotOf(List<long[]> acks) {
        synchronized (acks) {
            return new ArrayList<>(acks);
        }
    }
}
