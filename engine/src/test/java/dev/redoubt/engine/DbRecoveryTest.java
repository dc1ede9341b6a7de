package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DbRecoveryTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final Path DIR = Path.of("/db");

    private static List<String> dump(Db db) {
        List<String> all = new ArrayList<>();
        try (DbIterator it = db.scan(null, null)) {
            it.forEachRemaining(kv -> all.add(new String(kv.key()) + "=" + new String(kv.value())));
        }
        return all;
    }

    @Test
    void aLogLongerThanTheMemtablesAllowIsFlushedDuringRedoAndNothingIsLost() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        DbOptions small = DbModelTest.smallOptions().memtableBytes(64 * 1024).maxImmutableMemtables(1);
        // Written with memtables large enough to hold it all: the log, not the tables, holds every write.
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions().memtableBytes(64L << 20))) {
            for (int i = 0; i < 5000; i++) {
                db.put(String.format("k%05d", i).getBytes(), String.format("value-%050d", i).getBytes());
            }
        }
        try (Db db = Db.open(env, DIR, small)) {
            DbRecoveryReport report = db.recoveryReport();
            assertThat(report.recordsReplayed()).isGreaterThanOrEqualTo(5000);
            // Redo outgrew one active plus one immutable memtable of 64 KiB several times over: it flushed as it
            // went (before the background threads started), and nothing was lost.
            assertThat(db.stats().flushes()).as("%s", report).isPositive();
            assertThat(db.stats().immutableMemtables()).isLessThanOrEqualTo(1);
            List<String> all = dump(db);
            assertThat(all).hasSize(5000);
            assertThat(all.get(4999)).isEqualTo(String.format("k04999=value-%050d", 4999));
        }
    }

    @Test
    void openingTwiceInARowAfterACrashGivesIdenticalState() {
        Random r = new Random(SEED);
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Db db = Db.open(env, DIR, DbModelTest.smallOptions());
        java.util.Map<String, String> model = new java.util.TreeMap<>();
        for (int i = 0; i < 3000; i++) {
            String k = "k" + r.nextInt(500);
            db.put(k.getBytes(), ("v" + i).getBytes());
            model.put(k, "v" + i);
            if (i % 700 == 0) {
                db.flush();
            }
        }
        env.cutPower();
        try {
            db.close();
        } catch (RuntimeException expected) {
            // dead handles
        }
        List<String> first;
        Db once = Db.open(env, DIR, DbModelTest.smallOptions());
        first = dump(once);
        DbRecoveryReport report = once.recoveryReport();
        assertThat(report.recordsReplayed()).as("seed %d: %s", SEED, report).isPositive();
        // A crash during recovery: the second open starts from whatever the first left behind.
        env.crashProcess();
        try {
            once.close();
        } catch (RuntimeException expected) {
            // dead handles
        }
        try (Db twice = Db.open(env, DIR, DbModelTest.smallOptions())) {
            assertThat(dump(twice)).as("seed %d", SEED).isEqualTo(first);
        }
        List<String> expected = new ArrayList<>();
        model.forEach((k, v) -> expected.add(k + "=" + v));
        assertThat(first).as("seed %d: every SYNC write survives the power cut", SEED).isEqualTo(expected);
    }

    @Test
    void recoveryReportCountsReplayedAndSkippedRecords() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Db db = Db.open(env, DIR, DbOptions.defaults())) {
            for (int i = 0; i < 10; i++) {
                db.put(("a" + i).getBytes(), new byte[] {1});
            }
            db.flush();
            for (int i = 0; i < 5; i++) {
                db.put(("b" + i).getBytes(), new byte[] {2});
            }
        }
        try (Db db = Db.open(env, DIR, DbOptions.defaults())) {
            DbRecoveryReport report = db.recoveryReport();
            assertThat(report.batchesReplayed()).as(report.toString()).isEqualTo(5);
            // The 10 batches below the checkpoint; the flush marker sits at the checkpoint and replays as a no-op.
            assertThat(report.recordsSkipped()).as(report.toString()).isEqualTo(10);
            assertThat(report.recordsReplayed()).as(report.toString()).isEqualTo(6);
            assertThat(db.get("a3".getBytes())).containsExactly(1);
            assertThat(db.get("b3".getBytes())).containsExactly(2);
        }
    }

    @Test
    void checkpointIsAConsistentCopyThatOpensAndContinues() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Path copy = Path.of("/backup");
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            for (int i = 0; i < 1000; i++) {
                db.put(("k" + i).getBytes(), ("v" + i).getBytes());
            }
            db.checkpoint(copy);
            db.put("after".getBytes(), "checkpoint".getBytes());
        }
        try (Db db = Db.open(env, copy, DbModelTest.smallOptions())) {
            assertThat(db.get("k999".getBytes())).isEqualTo("v999".getBytes());
            assertThat(db.get("after".getBytes())).isNull();
            db.put("k1".getBytes(), "new".getBytes());
            assertThat(db.get("k1".getBytes())).isEqualTo("new".getBytes());
        }
        try (Db db = Db.open(env, copy, DbModelTest.smallOptions())) {
            assertThat(db.get("k1".getBytes())).isEqualTo("new".getBytes());
        }
    }

    @Test
    void orphansOfAnInterruptedFlushOrCompactionAreRemovedAndReported() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            db.put("a".getBytes(), "1".getBytes());
            db.flush();
        }
        // What a crash mid-flush or mid-compaction leaves: a table no manifest names, a half-written one.
        for (String name : new String[] {"000900.sst", "000901.sst.tmp"}) {
            try (var f = env.openForWrite(DIR.resolve("sst").resolve(name))) {
                f.write(0, java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
            }
        }
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            assertThat(db.recoveryReport().orphansRemoved()).contains("sst/000900.sst", "sst/000901.sst.tmp");
            assertThat(env.exists(DIR.resolve("sst").resolve("000900.sst"))).isFalse();
            assertThat(db.get("a".getBytes())).isEqualTo("1".getBytes());
        }
    }

    @Test
    void flushMovesTheCheckpointAndRemovesWalSegmentsWhollyBelowIt() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            for (int i = 0; i < 400; i++) {
                db.put(("k" + i).getBytes(), new byte[200]);
            }
            long walBefore = db.stats().walBytes();
            db.flush();
            DbStats after = db.stats();
            assertThat(after.checkpointLsn()).isPositive();
            // Only the segment holding the checkpoint (16 KiB here) is kept.
            assertThat(after.walBytes()).isLessThan(walBefore).isLessThanOrEqualTo(16 * 1024);
        }
    }

    @Test
    void aWalThatEndsBelowTheCheckpointRestartsAboveItAndLosesNothing() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            for (int i = 0; i < 300; i++) {
                db.put(("k" + i).getBytes(), ("v" + i).getBytes());
            }
            db.flush();
        }
        // Damage below the checkpoint: POINT_IN_TIME cuts the log there; the tables already hold it all.
        Path segment = env.list(DIR.resolve("wal")).get(0);
        env.flipBit(segment, 100, 1);
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions().recoveryMode(dev.redoubt.wal.RecoveryMode.POINT_IN_TIME))) {
            assertThat(db.get("k299".getBytes())).isEqualTo("v299".getBytes());
            db.put("after".getBytes(), "restart".getBytes());
            assertThat(db.get("after".getBytes())).isEqualTo("restart".getBytes());
        }
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            assertThat(db.get("after".getBytes())).isEqualTo("restart".getBytes());
            assertThat(db.get("k0".getBytes())).isEqualTo("v0".getBytes());
        }
    }
}
