package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The Db against a {@link TreeMap} model over random operations: put, delete, batch, get, scan, snapshots,
 * flush, compaction, close and reopen, process crash and power cut (every write here is SYNC, so nothing
 * acknowledged may be lost). Seeded: a failure prints the seed and the command that replays it.
 */
class DbModelTest {
    private static final int SEEDS = Integer.getInteger("redoubt.model.seeds", 1000);
    private static final int OPS = Integer.getInteger("redoubt.model.ops", 120);
    private static final Long ONE_SEED = Long.getLong("redoubt.seed");
    private static final Path DIR = Path.of("/db");

    /** Small everything: memtable switches, flushes and compactions happen within a short run. */
    static DbOptions smallOptions() {
        return DbOptions.defaults().memtableBytes(64 * 1024).walSegmentBytes(16 * 1024).blockBytes(512)
                .targetFileBytes(64 * 1024).level1MaxBytes(64 * 1024).level0CompactionTrigger(2)
                .blockCacheBytes(256 * 1024);
    }

    @Test
    void randomOperationsAgreeWithATreeMapAcrossRestartsCrashesAndPowerCuts() {
        long base = ONE_SEED != null ? ONE_SEED : new Random().nextLong();
        int seeds = ONE_SEED != null ? 1 : SEEDS;
        for (int i = 0; i < seeds; i++) {
            long seed = base + i;
            try {
                runSeed(seed);
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + " failed; replay with: mvn -pl engine -am test "
                        + "-Dtest=DbModelTest -Dredoubt.seed=" + seed + " -Dsurefire.failIfNoSpecifiedTests=false", t);
            }
        }
    }

    private static byte[] key(Random r) {
        // A small key space, so that overwrites, deletes and several versions per key are common.
        int k = r.nextInt(300);
        return r.nextInt(20) == 0 ? new byte[0] : ("k" + k).getBytes();
    }

    private static byte[] value(Random r) {
        byte[] v = new byte[r.nextInt(r.nextInt(10) == 0 ? 3000 : 60)];
        r.nextBytes(v);
        return v;
    }

    private static void runSeed(long seed) throws Exception {
        Random r = new Random(seed);
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        NavigableMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        Map<Snapshot, NavigableMap<byte[], byte[]>> snapshots = new HashMap<>();
        Db db = Db.open(env, DIR, smallOptions());
        try {
            for (int op = 0; op < OPS; op++) {
                int dice = r.nextInt(100);
                if (dice < 35) {
                    byte[] k = key(r);
                    byte[] v = value(r);
                    db.put(k, v);
                    model.put(k, v);
                } else if (dice < 45) {
                    byte[] k = key(r);
                    db.delete(k);
                    model.remove(k);
                } else if (dice < 55) {
                    WriteBatch batch = new WriteBatch();
                    Map<byte[], byte[]> effect = new TreeMap<>(Arrays::compareUnsigned);
                    for (int n = r.nextInt(8); n >= 0; n--) {
                        byte[] k = key(r);
                        if (r.nextBoolean()) {
                            byte[] v = value(r);
                            batch.put(k, v);
                            effect.put(k, v);
                        } else {
                            batch.delete(k);
                            effect.put(k, null);
                        }
                    }
                    db.write(batch);
                    effect.forEach((k, v) -> {
                        if (v == null) {
                            model.remove(k);
                        } else {
                            model.put(k, v);
                        }
                    });
                } else if (dice < 70) {
                    byte[] k = key(r);
                    assertThat(db.get(k)).as("get %s at op %d", new String(k), op).isEqualTo(model.get(k));
                } else if (dice < 76) {
                    byte[] from = r.nextBoolean() ? null : key(r);
                    byte[] to = r.nextBoolean() ? null : key(r);
                    assertScan(db, null, from, to, model);
                } else if (dice < 80) {
                    if (snapshots.size() < 4) {
                        snapshots.put(db.snapshot(), new TreeMap<>(model));
                    } else {
                        Snapshot s = snapshots.keySet().iterator().next();
                        assertScan(db, s, null, null, snapshots.remove(s));
                        s.close();
                    }
                } else if (dice < 84) {
                    db.flush();
                } else if (dice < 87) {
                    db.compact();
                } else {
                    // Every way the database can stop: snapshots end with the process.
                    for (Map.Entry<Snapshot, NavigableMap<byte[], byte[]>> e : snapshots.entrySet()) {
                        assertScan(db, e.getKey(), null, null, e.getValue());
                    }
                    snapshots.clear();
                    int how = r.nextInt(3);
                    if (how == 0) {
                        db.close();
                    } else if (how == 1) {
                        env.crashProcess();
                        closeQuietly(db);
                    } else {
                        env.cutPower();
                        closeQuietly(db);
                    }
                    db = Db.open(env, DIR, smallOptions());
                    assertScan(db, null, null, null, model);
                }
            }
            assertScan(db, null, null, null, model);
        } finally {
            closeQuietly(db);
        }
    }

    private static void closeQuietly(Db db) {
        try {
            db.close();
        } catch (RuntimeException expectedAfterACrash) {
            // the handles of a crashed "process" are dead
        }
    }

    static void assertScan(Db db, Snapshot snapshot, byte[] from, byte[] to, NavigableMap<byte[], byte[]> model) {
        NavigableMap<byte[], byte[]> expected = model;
        if (from != null && to != null && Arrays.compareUnsigned(from, to) > 0) {
            expected = new TreeMap<>(Arrays::compareUnsigned);
        } else if (from != null || to != null) {
            expected = from == null ? model.headMap(to, false)
                    : to == null ? model.tailMap(from, true) : model.subMap(from, true, to, false);
        }
        List<String> actual = new ArrayList<>();
        try (DbIterator it = snapshot == null ? db.scan(from, to) : db.scan(from, to, snapshot)) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                actual.add(new String(kv.key()) + "=" + Arrays.hashCode(kv.value()) + "/" + kv.value().length);
            }
        }
        List<String> wanted = new ArrayList<>();
        expected.forEach((k, v) -> wanted.add(new String(k) + "=" + Arrays.hashCode(v) + "/" + v.length));
        assertThat(actual).as("scan %s..%s%s", from == null ? "-" : new String(from), to == null ? "-" : new String(to),
                snapshot == null ? "" : " at snapshot " + snapshot.sequence()).containsExactlyElementsOf(wanted);
    }
}
