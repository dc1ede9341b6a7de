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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Runs a {@link DbCrashChild} until it dies (crash point) or is killed (SIGKILL), and checks the survivor. */
final class CrashChildRunner {
    /** What a child acknowledged, and the crash point it halted at (null if it was killed). */
    record Result(List<long[]> acks, String crashPoint) {
    }

    private CrashChildRunner() {
    }

    /**
     * Starts the child; once it is ready (or at once, if {@code fromStart}), waits {@code killAfterMs} or until
     * the child exits by itself, then SIGKILLs it.
     */
    static Result run(Path dir, int writers, Durability durability, long firstBatch, long killAfterMs,
                      boolean fromStart, List<String> extraJvmArgs) throws IOException, InterruptedException {
        return run(dir, writers, durability, firstBatch, killAfterMs, fromStart, extraJvmArgs, () -> { });
    }

    /** As above; {@code whileRunning} runs once the child is ready (it holds the database), before the kill. */
    static Result run(Path dir, int writers, Durability durability, long firstBatch, long killAfterMs,
                      boolean fromStart, List<String> extraJvmArgs, Runnable whileRunning)
            throws IOException, InterruptedException {
        List<String> jvmArgs = new ArrayList<>(extraJvmArgs);
        jvmArgs.add("-Xmx256m");
        List<String> command = dev.redoubt.testsupport.ChildJvm.javaCommand(jvmArgs, DbCrashChild.class.getName(),
                List.of(dir.toString(), Integer.toString(writers), durability.name(), Long.toString(firstBatch)));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<long[]> acks = new ArrayList<>();
        String[] crashPoint = new String[1];
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
                    } else if (line.startsWith("CRASHPOINT ")) {
                        crashPoint[0] = line.substring("CRASHPOINT ".length());
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // killed mid-line: what was read is what was acknowledged
            }
        });
        reader.start();
        try {
            if (!fromStart) {
                assertThat(ready.await(60, TimeUnit.SECONDS)).as("the child opened the database").isTrue();
                whileRunning.run();
            }
            child.waitFor(killAfterMs, TimeUnit.MILLISECONDS);
        } finally {
            child.destroyForcibly();
            child.waitFor();
            reader.join();
        }
        synchronized (acks) {
            return new Result(new ArrayList<>(acks), crashPoint[0]);
        }
    }

    /** Every acknowledged batch present with its values, the writers' counters not behind, no partial batch. */
    static void verify(Db db, List<long[]> acked, Map<Integer, Long> lastAcked, String context) {
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
}
