package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Writers, readers, snapshots, flushes and compactions at once. Writer {@code w} writes batches
 * {@code {w/a = c, w/b = c}} with {@code c} increasing; every read must see both halves equal (batches are
 * atomic), and a reader's successive reads of a writer never go back in time (each read sees at least what an
 * earlier read saw, and a snapshot is stable however long it is held).
 */
class DbConcurrencyTest {
    private static final int WRITERS = 4;
    private static final int BATCHES = 3_000;

    private static byte[] key(int w, char part) {
        return ("w" + w + "/" + part).getBytes();
    }

    private static byte[] value(long c) {
        // Padding makes memtables fill, so flushes and compactions run during the test.
        return ByteBuffer.allocate(200).putLong(c).array();
    }

    private static long counter(byte[] v) {
        return v == null ? -1 : ByteBuffer.wrap(v).getLong();
    }

    @Test
    @Timeout(300)
    void readsSeeAtomicBatchesAndNeverGoBackInTimeWhileFlushAndCompactionRun() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Db db = Db.open(env, Path.of("/db"), DbModelTest.smallOptions())) {
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS + 3);
            AtomicBoolean done = new AtomicBoolean();
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    for (long c = 0; c < BATCHES; c++) {
                        db.write(new WriteBatch().put(key(writer, 'a'), value(c)).put(key(writer, 'b'), value(c)),
                                c % 2 == 0 ? WriteOptions.SYNC : WriteOptions.ASYNC);
                    }
                    return null;
                }));
            }
            List<Future<?>> readers = new ArrayList<>();
            readers.add(pool.submit(() -> getsNeverGoBack(db, done)));
            readers.add(pool.submit(() -> snapshotsAreStableAndAtomic(db, done)));
            readers.add(pool.submit(() -> {
                while (!done.get()) {
                    db.flush();
                    db.compact();
                }
                return null;
            }));
            for (Future<?> f : writers) {
                f.get(240, TimeUnit.SECONDS);
            }
            done.set(true);
            for (Future<?> f : readers) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            for (int w = 0; w < WRITERS; w++) {
                assertThat(counter(db.get(key(w, 'a')))).isEqualTo(BATCHES - 1);
            }
            assertThat(db.stats().flushes()).isPositive();
        }
    }

    private static Void getsNeverGoBack(Db db, AtomicBoolean done) {
        long[] seen = new long[WRITERS];
        Arrays.fill(seen, -1);
        while (!done.get()) {
            for (int w = 0; w < WRITERS; w++) {
                long b = counter(db.get(key(w, 'b')));
                long a = counter(db.get(key(w, 'a')));
                // a is read after b, and both only grow: a >= b, and neither below what was seen before.
                assertThat(a).as("writer %d", w).isGreaterThanOrEqualTo(b).isGreaterThanOrEqualTo(seen[w]);
                assertThat(b).as("writer %d", w).isGreaterThanOrEqualTo(seen[w]);
                seen[w] = a;
            }
        }
        return null;
    }

    private static Void snapshotsAreStableAndAtomic(Db db, AtomicBoolean done) {
        long[] seen = new long[WRITERS];
        Arrays.fill(seen, -1);
        while (!done.get()) {
            try (Snapshot s = db.snapshot()) {
                long[] first = readAt(db, s);
                for (int w = 0; w < WRITERS; w++) {
                    assertThat(first[w]).as("writer %d went back in time", w).isGreaterThanOrEqualTo(seen[w]);
                    seen[w] = first[w];
                }
                Thread.onSpinWait();
                assertThat(readAt(db, s)).as("a snapshot read twice").containsExactly(first);
            }
        }
        return null;
    }

    /** Reads every writer's pair through the snapshot (by scan), checking the halves are equal. */
    private static long[] readAt(Db db, Snapshot s) {
        long[] counters = new long[WRITERS];
        Arrays.fill(counters, -1);
        try (DbIterator it = db.scan(null, null, s)) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                String k = new String(kv.key());
                int w = Integer.parseInt(k.substring(1, k.indexOf('/')));
                long c = counter(kv.value());
                if (k.endsWith("/a")) {
                    counters[w] = c;
                } else {
                    assertThat(c).as("batch halves of writer %d in one snapshot", w).isEqualTo(counters[w]);
                }
            }
        }
        return counters;
    }
}
