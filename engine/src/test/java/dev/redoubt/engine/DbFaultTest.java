package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import dev.redoubt.sstable.BlockCache;
import dev.redoubt.sstable.SstReader;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import dev.redoubt.wal.SegmentFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The Db under injected storage faults: a failed fsync at the n-th force, a failed write at the n-th write,
 * and a full disk from the n-th byte on, with n swept over the calls a seeded workload makes (puts, deletes
 * and batches in a Db whose small memtables switch, flush and compact in the background while it runs).
 *
 * <p>What must hold once a call has failed:
 * <ul>
 *   <li>The failure is not lost, even when a background flush or compaction hit it: a write, a flush or a
 *       compaction reports it. The only call that may fail unreported is one on a WAL segment still being
 *       preallocated, which nothing acknowledged depends on (it is deleted and made again).</li>
 *   <li>From the first reported failure on nothing is acknowledged: every later write is refused, also once
 *       the disk is healthy again (never retry and carry on), with a {@link StorageException} whose code and
 *       message say what failed and what to do; {@link DbStats#failure()} says so too.</li>
 *   <li>Reads still work and see every acknowledged write.</li>
 *   <li>Nothing is half-published: CURRENT names a manifest that exists and parses, every table it lists
 *       exists with its recorded size and verifies, and no temporary file is referenced.</li>
 *   <li>After the process stops (close, kill or power cut) and the database is reopened with the fault
 *       gone: every acknowledged write is there with its value, the write that failed is there entirely or
 *       not at all, and no refused write appears; the database accepts writes again.</li>
 * </ul>
 *
 * <p>The same faults are swept through an open that replays a whole workload from the WAL (manifest rewrite,
 * flushes during redo): the open fails saying why, or opens and reports the failure, and the next open loses
 * nothing.
 *
 * <p>Seeded: a failure names the seed, the fault and the call, and the command that replays them. The
 * background threads make the order of calls vary a little between runs, so a replay hits the same call
 * of nearly the same interleaving. Longer runs: {@code -Dredoubt.fault.seeds=<seeds>} and
 * {@code -Dredoubt.fault.runs=<runs per seed and fault>} (the sweep visits every (calls / runs)-th call, so a
 * number above the calls a workload makes, about 250 forces or writes, visits every one).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DbFaultTest {
    private static final int SEEDS = Integer.getInteger("redoubt.fault.seeds", 10);
    private static final int RUNS_PER_SEED = Integer.getInteger("redoubt.fault.runs", 40);
    private static final Long ONE_SEED = Long.getLong("redoubt.seed");
    private static final Long ONE_CALL = Long.getLong("redoubt.fault.call");
    private static final int OPS = 160;
    private static final int REFUSED_WRITES = 3;
    private static final int MAX_BATCH_BYTES = 8 * 1024;
    private static final Path DIR = Path.of("/db");

    /** What is injected; {@code call} counts forces, writes or bytes from the moment the fault is set. */
    private enum Fault {
        FSYNC("injected fsync failure"),
        WRITE("injected write failure"),
        DISK_FULL("the disk is full");

        final String says;

        Fault(String says) {
            this.says = says;
        }

        void arm(SimulatedStorageEnv env, long call) {
            switch (this) {
                case FSYNC -> env.failForceAt(Math.toIntExact(call));
                case WRITE -> env.failWriteAt(Math.toIntExact(call));
                case DISK_FULL -> env.failWritesAfterBytes(call);
            }
        }

        /** Calls of this kind a fault-free run of the workload made: the range to sweep. */
        long callsIn(Counts counts) {
            return switch (this) {
                case FSYNC -> counts.forces;
                case WRITE -> counts.writes;
                case DISK_FULL -> counts.bytes;
            };
        }

        long firstCall() {
            return this == DISK_FULL ? 0 : 1;
        }

        /** A write refused after the failure: the code and message say what failed and that a reopen is due. */
        void assertRefusal(StorageException e) {
            assertFailure(e);
            assertThat(e.getMessage()).as("what to do").contains("reopen");
        }

        /** The failure of an open (the caller opens again) or of a write: the code and message say what failed. */
        void assertFailure(StorageException e) {
            if (this == DISK_FULL) {
                assertThat(e.code()).as("code of %s", e).isEqualTo(ErrorCode.NO_SPACE);
            } else {
                assertThat(e.code()).as("code of %s", e).isIn(ErrorCode.FAILED, ErrorCode.IO);
            }
            assertThat(e.getMessage()).as("what failed").contains(says);
        }
    }

    private record Counts(long forces, long writes, long bytes) {
    }

    private enum Kind { PUT, DELETE, BATCH, FLUSH, COMPACT }

    /** One step of the workload; {@code effect} maps each key it writes to its new value (null: deleted). */
    private record Op(Kind kind, WriteBatch batch, NavigableMap<byte[], byte[]> effect) {
    }

    @Test
    void failedFsyncAtAnyForceLosesNothingAcknowledgedAndRefusesEveryLaterWrite(TestInfo test) {
        sweep(Fault.FSYNC, test);
    }

    @Test
    void failedWriteAtAnyWriteLosesNothingAcknowledgedAndRefusesEveryLaterWrite(TestInfo test) {
        sweep(Fault.WRITE, test);
    }

    @Test
    void fullDiskAtAnyByteSaysSoKeepsReadsWorkingAndPublishesNothingHalfWritten(TestInfo test) {
        sweep(Fault.DISK_FULL, test);
    }

    @Test
    void faultAtAnyCallOfAnOpenFailsItOrIsReportedAndTheNextOpenLosesNothing(TestInfo test) {
        for (Fault fault : Fault.values()) {
            sweepOpen(fault, test);
        }
    }

    private static String replay(TestInfo test, long seed, long call) {
        return "mvn -pl engine -am test -Dtest=DbFaultTest#" + test.getTestMethod().orElseThrow().getName()
                + " -Dredoubt.seed=" + seed + " -Dredoubt.fault.call=" + call
                + " -Dsurefire.failIfNoSpecifiedTests=false";
    }

    // ------------------------------------------------------------------------------------------ the sweep

    private static void sweep(Fault fault, TestInfo test) {
        long base = ONE_SEED != null ? ONE_SEED : new Random().nextLong();
        int seeds = ONE_SEED != null ? 1 : SEEDS;
        int runs = 0;
        for (int i = 0; i < seeds; i++) {
            long seed = base + i;
            List<Op> ops = workload(seed);
            for (long call : callsToFail(fault, seed, fault.callsIn(dryRun(seed, ops)))) {
                try {
                    runWithFault(seed, ops, fault, call);
                    runs++;
                } catch (Throwable t) {
                    throw new AssertionError("seed " + seed + ", " + fault + " at call " + call + " failed; replay"
                            + " with: " + replay(test, seed, call), t);
                }
            }
        }
        System.out.printf("DbFaultTest %s: %d seeds from %d, %d faulted runs%n", fault, seeds, base, runs);
    }

    /**
     * The open of a database that must replay its WAL (rewriting the manifest, removing orphans, flushing during
     * redo), with the fault at each of its calls in turn.
     */
    private static void sweepOpen(Fault fault, TestInfo test) {
        long base = ONE_SEED != null ? ONE_SEED : new Random().nextLong();
        int seeds = ONE_SEED != null ? 1 : Math.max(1, SEEDS / 2);
        int runs = 0;
        for (int i = 0; i < seeds; i++) {
            long seed = base + i;
            List<Op> ops = workload(seed);
            SimulatedStorageEnv dry = new SimulatedStorageEnv();
            crashedAfter(dry, ops);
            long before = fault.callsIn(countsOf(dry));
            Db.open(dry, DIR, DbModelTest.smallOptions()).close();
            for (long call : callsToFail(fault, seed, fault.callsIn(countsOf(dry)) - before)) {
                try {
                    openWithFault(ops, fault, call);
                    runs++;
                } catch (Throwable t) {
                    throw new AssertionError("seed " + seed + ", " + fault + " at call " + call + " of the open failed;"
                            + " replay with: " + replay(test, seed, call), t);
                }
            }
        }
        System.out.printf("DbFaultTest %s in open: %d seeds from %d, %d faulted runs%n", fault, seeds, base, runs);
    }

    /**
     * The calls to fail, out of the {@code calls} a fault-free run made: one in every (calls / runs), from an
     * offset that differs by seed, and one past the end; or only the one being replayed.
     */
    private static List<Long> callsToFail(Fault fault, long seed, long calls) {
        if (ONE_CALL != null) {
            return List.of(ONE_CALL);
        }
        long stride = Math.max(1, calls / RUNS_PER_SEED);
        List<Long> chosen = new ArrayList<>();
        for (long call = fault.firstCall() + Math.floorMod(seed, stride); call <= calls + 1; call += stride) {
            chosen.add(call);
        }
        return chosen;
    }

    private static Counts countsOf(SimulatedStorageEnv env) {
        return new Counts(env.forceCount(), env.writeCount(), env.bytesWritten());
    }

    /**
     * Runs the writes of the workload into one large memtable, then kills the process: the whole workload is
     * left in the WAL, so the next open (with small memtables) flushes during redo. Returns what was acknowledged.
     */
    private static NavigableMap<byte[], byte[]> crashedAfter(SimulatedStorageEnv env, List<Op> ops) {
        NavigableMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        Db db = Db.open(env, DIR, DbModelTest.smallOptions().memtableBytes(16L << 20));
        for (Op op : ops) {
            if (op.kind != Kind.FLUSH && op.kind != Kind.COMPACT) {
                apply(db, op);
                model = after(model, op);
            }
        }
        env.crashProcess();
        closeQuietly(db);
        return model;
    }

    private static void openWithFault(List<Op> ops, Fault fault, long call) throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        NavigableMap<byte[], byte[]> acknowledged = crashedAfter(env, ops);
        fault.arm(env, call);
        Db db = null;
        try {
            db = Db.open(env, DIR, DbModelTest.smallOptions());
        } catch (StorageException e) {
            assertThat(env.injectedFailures()).as("the fault fired").isNotEmpty();
            fault.assertFailure(e);
        }
        if (db != null) {
            try {
                db.compact(); // waits for the background work the open started
            } catch (StorageException e) {
                fault.assertRefusal(e);
            }
            // Opened: a fault it met (in a flush during redo, say) is reported, unless it hit a spare segment.
            boolean spareOnly = env.injectedFailures().stream()
                    .allMatch(f -> f.path().getFileName().toString().endsWith(SegmentFiles.PREALLOC_SUFFIX));
            if (!spareOnly) {
                assertThat(db.stats().failure()).as("failure of an open that met %s", env.injectedFailures())
                        .isNotNull().contains(fault.says);
            }
            assertScanIsOneOf(db, "after an open that met the fault", acknowledged, acknowledged);
            env.crashProcess();
            closeQuietly(db);
        }
        env.clearFaults();
        assertPublishedStateIsWhole(env);
        try (Db reopened = Db.open(env, DIR, DbModelTest.smallOptions())) {
            assertScanIsOneOf(reopened, "after the next open", acknowledged, acknowledged);
            reopened.put("after-reopen".getBytes(), "ok".getBytes());
        }
    }

    private static List<Op> workload(long seed) {
        Random r = new Random(seed);
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < OPS; i++) {
            int dice = r.nextInt(100);
            NavigableMap<byte[], byte[]> effect = new TreeMap<>(Arrays::compareUnsigned);
            WriteBatch batch = new WriteBatch();
            Kind kind;
            if (dice < 55) {
                kind = Kind.PUT;
                byte[] k = key(r);
                byte[] v = value(r);
                batch.put(k, v);
                effect.put(k, v);
            } else if (dice < 70) {
                kind = Kind.DELETE;
                byte[] k = key(r);
                batch.delete(k);
                effect.put(k, null);
            } else if (dice < 94) {
                kind = Kind.BATCH;
                // Bounded in bytes too: a batch is one WAL record, and the small options' segments hold 16 KiB.
                for (int n = 1 + r.nextInt(8); n > 0 && batch.encodedBytes() < MAX_BATCH_BYTES; n--) {
                    byte[] k = key(r);
                    if (r.nextInt(4) > 0) {
                        byte[] v = value(r);
                        batch.put(k, v);
                        effect.put(k, v);
                    } else {
                        batch.delete(k);
                        effect.put(k, null);
                    }
                }
            } else if (dice < 98) {
                kind = Kind.FLUSH;
            } else {
                kind = Kind.COMPACT;
            }
            ops.add(new Op(kind, batch, effect));
        }
        return ops;
    }

    private static byte[] key(Random r) {
        return ("k" + r.nextInt(200)).getBytes();
    }

    /** Values large enough that the 64 KiB memtable switches several times in one workload. */
    private static byte[] value(Random r) {
        byte[] v = new byte[r.nextInt(10) == 0 ? 4000 : r.nextInt(1200)];
        r.nextBytes(v);
        return v;
    }

    private static void apply(Db db, Op op) {
        switch (op.kind) {
            case PUT -> db.put(op.effect.firstKey(), op.effect.firstEntry().getValue());
            case DELETE -> db.delete(op.effect.firstKey());
            case BATCH -> db.write(op.batch);
            case FLUSH -> db.flush();
            case COMPACT -> db.compact();
        }
    }

    private static NavigableMap<byte[], byte[]> after(NavigableMap<byte[], byte[]> model, Op op) {
        NavigableMap<byte[], byte[]> next = new TreeMap<>(model);
        op.effect.forEach((k, v) -> {
            if (v == null) {
                next.remove(k);
            } else {
                next.put(k, v);
            }
        });
        return next;
    }

    /** The workload without a fault: how many forces, writes and bytes it makes after the open. */
    private static Counts dryRun(long seed, List<Op> ops) {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        NavigableMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        Counts counts;
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            long forces = env.forceCount();
            long writes = env.writeCount();
            long bytes = env.bytesWritten();
            for (Op op : ops) {
                apply(db, op);
                model = after(model, op);
            }
            counts = new Counts(env.forceCount() - forces, env.writeCount() - writes, env.bytesWritten() - bytes);
        }
        try (Db db = Db.open(env, DIR, DbModelTest.smallOptions())) {
            assertScanIsOneOf(db, "the fault-free run after reopen", model, model);
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + ": the workload fails without a fault", t);
        }
        return counts;
    }

    // ------------------------------------------------------------------------------------------ one run

    private static void runWithFault(long seed, List<Op> ops, Fault fault, long call) throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Db db = Db.open(env, DIR, DbModelTest.smallOptions());
        try {
            fault.arm(env, call);
            NavigableMap<byte[], byte[]> acknowledged = new TreeMap<>(Arrays::compareUnsigned);
            NavigableMap<byte[], byte[]> withFailedWrite = null;
            StorageException failure = null;
            for (int i = 0; i < ops.size() && failure == null; i++) {
                Op op = ops.get(i);
                try {
                    apply(db, op);
                    acknowledged = after(acknowledged, op);
                } catch (StorageException e) {
                    failure = e;
                    withFailedWrite = after(acknowledged, op);
                }
            }
            if (failure == null) {
                // The fault may have hit a background flush or compaction: it must surface now.
                Op probe = probe("probe");
                try {
                    db.flush();
                    db.compact();
                    apply(db, probe);
                    acknowledged = after(acknowledged, probe);
                } catch (StorageException e) {
                    failure = e;
                    withFailedWrite = after(acknowledged, probe);
                }
            }
            if (failure == null) {
                assertThat(env.injectedFailures()).as("injected failures nobody reported")
                        .allMatch(f -> f.path().getFileName().toString().endsWith(SegmentFiles.PREALLOC_SUFFIX));
                withFailedWrite = acknowledged;
            } else {
                assertThat(env.injectedFailures()).as("the fault fired").isNotEmpty();
                fault.assertRefusal(failure);
                assertThat(db.stats().failure()).as("stats after %s", failure).isNotNull().contains(fault.says);
                assertScanIsOneOf(db, "reads after the failure", acknowledged, withFailedWrite);
                assertWritesRefused(db, fault, "after the failure");
                env.clearFaults();
                assertWritesRefused(db, fault, "with the disk healthy again");
                assertThat(db.stats().failure()).as("stats once the disk is healthy").isNotNull();
            }
            env.clearFaults();
            stop(db, env, new Random(seed * 31 + call).nextInt(3));
            db = null;
            assertPublishedStateIsWhole(env);

            db = Db.open(env, DIR, DbModelTest.smallOptions());
            assertScanIsOneOf(db, "after reopen", acknowledged, withFailedWrite);
            assertThat(db.stats().failure()).as("a reopened database is healthy").isNull();
            db.put("after-reopen".getBytes(), "ok".getBytes());
            assertThat(db.get("after-reopen".getBytes())).isEqualTo("ok".getBytes());
        } finally {
            if (db != null) {
                closeQuietly(db);
            }
        }
    }

    private static Op probe(String key) {
        NavigableMap<byte[], byte[]> effect = new TreeMap<>(Arrays::compareUnsigned);
        effect.put(key.getBytes(), "value".getBytes());
        return new Op(Kind.PUT, null, effect);
    }

    /** Every kind of write is refused, with the code and message of the fault; none of them is ever applied. */
    private static void assertWritesRefused(Db db, Fault fault, String when) {
        for (int i = 0; i < REFUSED_WRITES; i++) {
            byte[] key = ("refused-" + i).getBytes();
            assertThatThrownBy(() -> db.put(key, key)).as("put %s", when)
                    .isInstanceOfSatisfying(StorageException.class, fault::assertRefusal);
        }
        assertThatThrownBy(() -> db.delete("k1".getBytes())).as("delete %s", when)
                .isInstanceOfSatisfying(StorageException.class, fault::assertRefusal);
        assertThatThrownBy(() -> db.write(new WriteBatch().put("refused-batch".getBytes(), new byte[1])))
                .as("batch %s", when).isInstanceOfSatisfying(StorageException.class, fault::assertRefusal);
        assertThatThrownBy(db::flush).as("flush %s", when)
                .isInstanceOfSatisfying(StorageException.class, fault::assertRefusal);
        assertThatThrownBy(db::compact).as("compaction %s", when)
                .isInstanceOfSatisfying(StorageException.class, fault::assertRefusal);
    }

    /** 0: close (which must work on a failed database), 1: kill the process, 2: cut the power. */
    private static void stop(Db db, SimulatedStorageEnv env, int how) {
        switch (how) {
            case 0 -> db.close();
            case 1 -> {
                env.crashProcess();
                closeQuietly(db);
            }
            default -> {
                env.cutPower();
                closeQuietly(db);
            }
        }
    }

    private static void closeQuietly(Db db) {
        try {
            db.close();
        } catch (RuntimeException expectedAfterACrash) {
            // the handles of a crashed "process" are dead
        }
    }

    // ------------------------------------------------------------------------------------------ checks

    private static void assertPublishedStateIsWhole(SimulatedStorageEnv env) throws Exception {
        assertPublishedStateIsWhole(env, DIR);
    }

    /** CURRENT names a manifest that parses; every table it lists is there, whole; no temporary file is listed. */
    static void assertPublishedStateIsWhole(StorageEnv env, Path dir) throws Exception {
        DbInspector.Manifest manifest = DbInspector.currentManifest(env, dir, DbInspector.defaultMaxLevels());
        Set<Long> live = DbInspector.liveTableNumbers(manifest);
        for (FileMeta f : manifest.tables()) {
            Path path = DbFiles.sstPath(dir, f.number());
            assertThat(env.exists(path)).as("table %s listed by %s", path, manifest.name()).isTrue();
            try (StorageFile file = env.openForRead(path)) {
                assertThat(file.size()).as("size of %s", path).isEqualTo(f.bytes());
            }
            try (SstReader reader = SstReader.open(env, path, new BlockCache(0))) {
                reader.verify();
            }
        }
        for (Path p : env.list(dir.resolve(DbFiles.SST_DIR))) {
            String name = p.getFileName().toString();
            if (name.endsWith(DbFiles.TEMP_SUFFIX)) {
                long number = Long.parseLong(name.substring(0, name.indexOf('.')));
                assertThat(live).as("temporary file %s is not a live table", name).doesNotContain(number);
            }
        }
    }

    /** The whole database, by scan and by point reads, equals one of the two states. */
    private static void assertScanIsOneOf(Db db, String when, NavigableMap<byte[], byte[]> a,
                                          NavigableMap<byte[], byte[]> b) {
        List<String> actual = new ArrayList<>();
        try (DbIterator it = db.scan(null, null)) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                actual.add(describe(kv.key(), kv.value()));
            }
        }
        List<String> wantedA = describe(a);
        List<String> wantedB = describe(b);
        assertThat(actual.equals(wantedA) || actual.equals(wantedB))
                .as("%s: the scan %s is neither the acknowledged state %s nor that plus the failed write %s", when,
                        actual, wantedA, wantedB)
                .isTrue();
        NavigableMap<byte[], byte[]> seen = actual.equals(wantedA) ? a : b;
        for (Map.Entry<byte[], byte[]> e : seen.entrySet()) {
            assertThat(db.get(e.getKey())).as("%s: get %s", when, new String(e.getKey())).isEqualTo(e.getValue());
        }
    }

    private static List<String> describe(NavigableMap<byte[], byte[]> model) {
        List<String> out = new ArrayList<>();
        model.forEach((k, v) -> out.add(describe(k, v)));
        return out;
    }

    private static String describe(byte[] key, byte[] value) {
        return new String(key) + "=" + Arrays.hashCode(value) + "/" + value.length;
    }
}
