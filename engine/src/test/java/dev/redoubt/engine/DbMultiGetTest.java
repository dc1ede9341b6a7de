package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import dev.redoubt.wal.Durability;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link Db#multiGet}: the values in order, absent keys null, all at one point in time. */
class DbMultiGetTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @Test
    void multiGetAnswersLikeAModelAcrossMemtablesTablesDeletesAndASnapshot() {
        Random random = new Random(SEED);
        TreeMap<String, String> model = new TreeMap<>();
        try (Db db = Db.open(new SimulatedStorageEnv(), Path.of("/db"), DbModelTest.smallOptions())) {
            Snapshot snapshot = null;
            TreeMap<String, String> atSnapshot = null;
            for (int i = 0; i < 5_000; i++) {
                String k = "k" + random.nextInt(400);
                if (random.nextInt(5) == 0) {
                    db.delete(bytes(k));
                    model.remove(k);
                } else {
                    db.put(bytes(k), bytes("v" + i));
                    model.put(k, "v" + i);
                }
                if (i == 2_500) {
                    snapshot = db.snapshot();
                    atSnapshot = new TreeMap<>(model);
                }
                if (i % 1_000 == 0) {
                    db.flush();
                }
            }
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 450; i++) {
                keys.add("k" + random.nextInt(450)); // some never written, some asked twice
            }
            List<byte[]> asked = keys.stream().map(DbMultiGetTest::bytes).toList();
            assertThat(strings(db.multiGet(asked))).as("seed %d", SEED)
                    .isEqualTo(keys.stream().map(model::get).toList());
            TreeMap<String, String> then = atSnapshot;
            assertThat(strings(db.multiGet(asked, snapshot))).as("seed %d, at the snapshot", SEED)
                    .isEqualTo(keys.stream().map(then::get).toList());
            snapshot.close();
            assertThat(db.multiGet(List.of())).isEmpty();
        }
    }

    @Test
    void aBatchWrittenDuringAMultiGetIsSeenWholeOrNotAtAll() throws Exception {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            keys.add(bytes("row-" + i));
        }
        try (Db db = Db.open(new SimulatedStorageEnv(), Path.of("/db"),
                DbModelTest.smallOptions().durability(Durability.ASYNC))) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int round = 0; !stop.get(); round++) {
                        WriteBatch batch = new WriteBatch();
                        for (byte[] k : keys) {
                            batch.put(k, bytes("round-" + round));
                        }
                        db.write(batch);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            writer.start();
            try {
                for (int i = 0; i < 20_000; i++) {
                    Set<String> seen = new HashSet<>(strings(db.multiGet(keys)));
                    assertThat(seen).as("one multiGet saw values of several batches").hasSizeLessThanOrEqualTo(1);
                }
            } finally {
                stop.set(true);
                writer.join();
            }
            assertThat(failure.get()).isNull();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> strings(List<byte[]> values) {
        List<String> out = new ArrayList<>();
        for (byte[] v : values) {
            out.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
        }
        return out;
    }
}
