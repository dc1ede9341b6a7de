package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.redoubt.common.EntryKind;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import dev.redoubt.wal.DroppedRange;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalReader;
import dev.redoubt.wal.WalRecordDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The corruption sweep: one reference database with known contents (WAL segments holding records written after
 * the last flush, tables in three levels, a manifest of several edits, CURRENT), every write SYNC and so
 * acknowledged as durable. Each trial copies it, damages one file (a WAL segment, a table, the manifest or
 * CURRENT) with one flipped bit or one zeroed range of 1..4096 bytes, opens the copy in the default recovery mode,
 * reads every key and scans everything, and classifies what happened:
 * <ul>
 *   <li><b>detected</b>: the open or a read failed with {@link ErrorCode#CORRUPTION}, the message names the
 *       damaged file and an offset at or before the damage, a refused open is refused again (the refusal destroyed
 *       nothing), and every read that did succeed returned the right value;</li>
 *   <li><b>harmless</b>: every read returned exactly the reference contents, and so does a second open. This is
 *       right only where the damaged bytes carry no acknowledged data: in the WAL, the zero-filled preallocated
 *       space past the end of the log (read as the end; non-zero bytes found there are dropped as a torn tail and
 *       quarantined), and the filler of a segment's closing PADDING record or the few zero bytes after it (the
 *       padding checksum covers its header only: the filler is unspecified by design); in the manifest, the last
 *       edit when it is the clean close's record of the WAL's durable end (a damaged last edit with no effect on
 *       disk is indistinguishable from an append cut short by a crash, and forgetting it loses no data); anywhere,
 *       zeros written over zeros. Tables and CURRENT have no such bytes: every byte is checked;</li>
 *   <li><b>reported loss</b>: the open succeeded, its recovery report lists a dropped WAL range (segment and
 *       offset, quarantined under {@code lost/}), and the contents are exactly the reference without the records
 *       from the damaged one on. This is accepted only for the documented limit (docs/formats/wal.md): the last
 *       records of a log that crashed after them, which no later record proves durable, so that damage to them is
 *       indistinguishable from a torn write. After a clean close the manifest records the log's durable end, and
 *       the same damage must be refused; loss of a record before the damaged one is never accepted.</li>
 * </ul>
 * Anything else fails the test with the trial's seed, file and offset: a wrong value, a resurrected deleted key,
 * a missing key without a report, an exception other than a {@link StorageException} with code CORRUPTION, or a
 * corruption message that does not say where.
 *
 * <p>The reference is built once per shutdown kind (a clean close, and a process crash right after the last
 * acknowledged write), deterministically: one writer, explicit flushes and compactions only. So a trial replays
 * from its seed alone ({@code -Dredoubt.seed=<seed>}); the references' fingerprints are printed with a failure. The
 * number of trials is {@code -Dredoubt.corruption.trials} (default 1000), the first seed
 * {@code -Dredoubt.corruption.seed} (default random); the table of outcomes per file kind is printed at the end.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class DbCorruptionSweepTest {
    private static final int TRIALS = Integer.getInteger("redoubt.corruption.trials", 1000);
    private static final Long ONE_SEED = Long.getLong("redoubt.seed");
    /** Stop after this many failed trials (each prints its seed and stack trace). */
    private static final int MAX_FAILURES = Integer.getInteger("redoubt.corruption.maxFailures", 10);
    /** Print every trial's outcome, not only failures. */
    private static final boolean VERBOSE = Boolean.getBoolean("redoubt.corruption.verbose");
    private static final long TRIAL_TIMEOUT_SECONDS = 60;
    private static final Path DIR = Path.of("/db");
    private static final long BUILD_SEED = 20261201L;
    private static final int KEYS = 1500;
    private static final Pattern OFFSET = Pattern.compile("(?:offset|byte) (\\d+)");

    /** What a trial damages. Weights: tables and the log are where most bytes are; CURRENT is 16 bytes. */
    enum FileKind {
        WAL(35), SST(35), MANIFEST(20), CURRENT(10);

        final int weight;

        FileKind(int weight) {
            this.weight = weight;
        }
    }

    enum Outcome { DETECTED, HARMLESS, REPORTED_LOSS }

    /** How the reference database stopped after its last (SYNC, acknowledged) write. */
    enum Shutdown { CLOSED, CRASHED }

    /** Runs one trial at a time; replaced when a trial hangs, so that the next trials still run. */
    private static ExecutorService trialThread = newTrialThread();
    private static final Map<Shutdown, Reference> REFERENCES = new EnumMap<>(Shutdown.class);

    private static ExecutorService newTrialThread() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "corruption-trial");
            t.setDaemon(true); // a trial stuck in an endless loop must not keep the JVM alive
            return t;
        });
    }

    @AfterAll
    static void stopTrialThread() {
        trialThread.shutdownNow();
    }

    static DbOptions options() {
        // One explicit flush per round (the memtable never fills on its own), blocks of 512 bytes so every table
        // has many, 4 KiB WAL segments so the records after the last flush span several.
        return DbOptions.defaults().memtableBytes(4L * 1024 * 1024).walSegmentBytes(4096).blockBytes(512)
                .targetFileBytes(64 * 1024).level1MaxBytes(64 * 1024).level0CompactionTrigger(4)
                .blockCacheBytes(1024 * 1024);
    }

    // ------------------------------------------------------------------------------------------ the sweep

    @Test
    void everyDamageIsDetectedHarmlessOrReportedNeverSilentlyWrong() throws Exception {
        long base = ONE_SEED != null ? ONE_SEED : Long.getLong("redoubt.corruption.seed", new Random().nextLong());
        int trials = ONE_SEED != null ? 1 : TRIALS;
        for (Shutdown s : Shutdown.values()) {
            reference(s); // a broken reference fails here, once, not in every trial
        }
        Map<FileKind, Map<Outcome, Integer>> counts = new EnumMap<>(FileKind.class);
        Map<Shutdown, Map<Outcome, Integer>> byShutdown = new EnumMap<>(Shutdown.class);
        List<String> failures = new ArrayList<>();
        System.out.printf("Corruption sweep: %d trials from seed %d, reference fingerprints %s%n", trials, base,
                fingerprints());
        long started = System.nanoTime();
        for (int i = 0; i < trials; i++) {
            long seed = base + i;
            Damage damage = null;
            try {
                damage = Damage.choose(seed);
                Trial trial = runBounded(damage);
                if (VERBOSE || ONE_SEED != null) {
                    System.out.println("seed " + seed + ": " + damage + ": " + trial.outcome + ": " + trial.detail);
                }
                counts.computeIfAbsent(damage.kind, k -> new EnumMap<>(Outcome.class)).merge(trial.outcome, 1, Integer::sum);
                byShutdown.computeIfAbsent(damage.shutdown, k -> new EnumMap<>(Outcome.class))
                        .merge(trial.outcome, 1, Integer::sum);
            } catch (Throwable t) {
                String what = "seed " + seed + " (" + (damage == null ? "choosing the damage" : damage) + "): " + t;
                failures.add(what);
                System.out.println("FAILED " + what);
                t.printStackTrace(System.out);
                if (failures.size() >= MAX_FAILURES) {
                    break;
                }
            }
        }
        String table = table(counts, byShutdown, trials, base, System.nanoTime() - started);
        if (!failures.isEmpty()) {
            table += failures.size() + " trials FAILED\n";
        }
        System.out.println(table);
        assertThat(failures).as("failed trials; replay one with: mvn -pl engine -am test -Dtest=DbCorruptionSweepTest"
                + " -Dredoubt.seed=<seed> -Dsurefire.failIfNoSpecifiedTests=false (reference fingerprints %s)%n%s",
                fingerprints(), table).isEmpty();
    }

    private static Trial runBounded(Damage damage) throws Throwable {
        Future<Trial> future = trialThread.submit(() -> runTrial(damage));
        try {
            return future.get(TRIAL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause();
        } catch (TimeoutException e) {
            trialThread.shutdownNow();
            trialThread = newTrialThread();
            throw new AssertionError("the trial did not finish within " + TRIAL_TIMEOUT_SECONDS + " s (endless loop?)");
        }
    }

    private static String table(Map<FileKind, Map<Outcome, Integer>> counts, Map<Shutdown, Map<Outcome, Integer>> byShutdown,
                                int trials, long base, long nanos) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Corruption sweep: %d trials from seed %d in %.1f s%n", trials, base, nanos / 1e9));
        sb.append(String.format("%-10s %9s %9s %14s%n", "file", "detected", "harmless", "reported loss"));
        for (FileKind kind : FileKind.values()) {
            Map<Outcome, Integer> c = counts.getOrDefault(kind, Map.of());
            sb.append(String.format("%-10s %9d %9d %14d%n", kind, c.getOrDefault(Outcome.DETECTED, 0),
                    c.getOrDefault(Outcome.HARMLESS, 0), c.getOrDefault(Outcome.REPORTED_LOSS, 0)));
        }
        for (Shutdown s : Shutdown.values()) {
            Map<Outcome, Integer> c = byShutdown.getOrDefault(s, Map.of());
            sb.append(String.format("%-10s %9d %9d %14d%n", "(" + s.name().toLowerCase() + ")",
                    c.getOrDefault(Outcome.DETECTED, 0), c.getOrDefault(Outcome.HARMLESS, 0),
                    c.getOrDefault(Outcome.REPORTED_LOSS, 0)));
        }
        return sb.toString();
    }

    private static String fingerprints() {
        StringBuilder sb = new StringBuilder();
        for (Shutdown s : Shutdown.values()) {
            sb.append(s).append('=').append(Long.toHexString(reference(s).fingerprint)).append(' ');
        }
        return sb.toString().trim();
    }

    // ------------------------------------------------------------------------------------------ regressions
    // Cases the sweep found, kept by name. Each damages the reference at a chosen place rather than by seed, so it
    // stays meaningful when the reference changes.

    @Test
    void damagedLastManifestEditAfterAFlushIsRefusedBeforeAnythingIsDeleted() throws IOException {
        // The crashed reference's last edit is the last flush, which then deleted the WAL segments below it. Read as
        // a torn append, the edit was dropped, its table deleted as an orphan, and only then the open refused.
        Reference ref = reference(Shutdown.CRASHED);
        Path manifest = ref.filesOf(FileKind.MANIFEST).get(0);
        long last = recordOffsets(ref.files.get(manifest)).get(recordOffsets(ref.files.get(manifest)).size() - 1);
        SimulatedStorageEnv env = ref.materialize();
        Damage.flip(Shutdown.CRASHED, FileKind.MANIFEST, manifest, last + 50, 3).applyTo(env);
        Map<Path, byte[]> before = files(env);
        for (int attempt = 0; attempt < 2; attempt++) {
            Throwable refused = catchThrowable(() -> Db.open(env, DIR, options()));
            Map<Path, byte[]> after = files(env);
            assertThat(after).as("nothing changed").containsOnlyKeys(before.keySet());
            before.forEach((path, bytes) -> assertThat(after.get(path)).as(path.toString()).isEqualTo(bytes));
            assertThat(refused).isInstanceOfSatisfying(StorageException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
                assertThat(e.getMessage()).contains(manifest.getFileName() + " is corrupt at offset " + last,
                        "not an append cut short by a crash", "the WAL starts at LSN");
            });
        }
    }

    @Test
    void damagedLastManifestEditAfterACompactionIsRefused() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Db db = Db.open(env, DIR, options());
        Random r = new Random(7);
        NavigableMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        for (int i = 0; i < options().level0CompactionTrigger(); i++) {
            writeRound(db, r, model, 50, new int[1]);
            db.flush();
        }
        db.compact(); // the last edit is the compaction's: its input tables are deleted
        env.crashProcess();
        db.close();
        Path manifest = env.list(DIR).stream().filter(p -> DbFiles.manifestNumber(p.getFileName().toString()) >= 0)
                .findFirst().orElseThrow();
        List<Long> records = recordOffsets(env.readAllBytes(manifest));
        long last = records.get(records.size() - 1);
        env.flipBit(manifest, last + 60, 0);
        assertThatThrownBy(() -> Db.open(env, DIR, options())).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(e.getMessage()).contains("is corrupt at offset " + last, "is missing (a compaction deletes");
        });
    }

    @Test
    void manifestAppendCutShortByACrashIsIgnored() throws IOException {
        Reference ref = reference(Shutdown.CRASHED);
        Path manifest = ref.filesOf(FileKind.MANIFEST).get(0);
        SimulatedStorageEnv env = ref.materialize();
        byte[] partial = Arrays.copyOf(ref.files.get(manifest), 30); // the start of a record header, then the cut
        try (StorageFile f = env.openForWrite(manifest)) {
            f.write(ref.files.get(manifest).length, ByteBuffer.wrap(partial));
            f.force();
        }
        try (Db db = Db.open(env, DIR, options())) {
            assertThat(db.recoveryReport().tornManifestBytes()).isEqualTo(30);
            assertThat(Observed.read(db, ref.universe).mismatch(ref.expected)).isNull();
        }
    }

    @Test
    void damagedFirstManifestRecordIsRefusedEvenWhenItIsTheOnlyOne() throws IOException {
        // CURRENT names a manifest only once its first record is durable: that record is never a torn append.
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Db db = Db.open(env, DIR, options());
        db.put(key(1), key(2));
        env.crashProcess();
        db.close();
        Path manifest = env.list(DIR).stream().filter(p -> DbFiles.manifestNumber(p.getFileName().toString()) >= 0)
                .findFirst().orElseThrow();
        assertThat(recordOffsets(env.readAllBytes(manifest))).hasSize(1);
        env.flipBit(manifest, 20, 5);
        assertThatThrownBy(() -> Db.open(env, DIR, options())).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(e.getMessage()).contains(manifest.getFileName() + " is corrupt at offset 0");
        });
    }

    @Test
    void damagedByteOfCurrentIsReportedWithItsOffset() throws IOException {
        Reference ref = reference(Shutdown.CLOSED);
        Path current = DIR.resolve(DbFiles.CURRENT);
        for (int at : new int[] {0, 8, 12, 15}) {
            Damage damage = Damage.flip(Shutdown.CLOSED, FileKind.CURRENT, current, at, 6);
            assertThat(runTrial(damage).detail()).contains("CURRENT is corrupt at byte " + at);
        }
    }

    @Test
    void currentNamingAMissingManifestPointsAtTheDifferingByte() throws IOException {
        Reference ref = reference(Shutdown.CLOSED);
        Path current = DIR.resolve(DbFiles.CURRENT);
        int lastDigit = ref.files.get(current).length - 2;
        Trial trial = runTrial(Damage.flip(Shutdown.CLOSED, FileKind.CURRENT, current, lastDigit, 1));
        assertThat(trial.outcome()).isEqualTo(Outcome.DETECTED);
        assertThat(trial.detail()).contains("which is missing", "differs from at byte " + lastDigit);
    }

    @Test
    void damagedLastWalRecordAfterACleanCloseIsRefused() throws IOException {
        // Nothing after the last record can prove it durable; the manifest's record of the clean close does.
        Trial trial = runTrial(lastWalRecordFlip(Shutdown.CLOSED));
        assertThat(trial.outcome()).isEqualTo(Outcome.DETECTED);
        assertThat(trial.detail()).contains("acknowledged writes are damaged", "known durable up to LSN");
    }

    @Test
    void damagedLastWalRecordAfterACrashIsDroppedReportedAndQuarantined() throws IOException {
        // The documented limit (docs/formats/wal.md): after a crash nothing proves the last group durable, and a
        // damaged one is indistinguishable from a torn write. It is dropped, reported and kept in lost/.
        Trial trial = runTrial(lastWalRecordFlip(Shutdown.CRASHED));
        assertThat(trial.outcome()).isEqualTo(Outcome.REPORTED_LOSS);
        assertThat(trial.detail()).contains("TORN_TAIL", "quarantined in lost/");
    }

    @Test
    void tableFooterChecksumMismatchNamesTheFootersFirstByte() throws IOException {
        Reference ref = reference(Shutdown.CLOSED);
        Path table = ref.filesOf(FileKind.SST).get(0);
        long footer = ref.files.get(table).length - 52L;
        Trial trial = runTrial(Damage.flip(Shutdown.CLOSED, FileKind.SST, table, footer + 1, 0));
        assertThat(trial.detail()).contains("corrupt at byte " + footer + ": footer checksum mismatch");
    }

    private static Damage lastWalRecordFlip(Shutdown shutdown) {
        Reference ref = reference(shutdown);
        long lsn = ref.afterCheckpoint.get(ref.afterCheckpoint.size() - 1).lsn;
        Path segment = null;
        for (Path p : ref.filesOf(FileKind.WAL)) {
            if (Long.parseLong(p.getFileName().toString().replace(".wal", "")) <= lsn) {
                segment = p;
            }
        }
        long base = Long.parseLong(segment.getFileName().toString().replace(".wal", ""));
        return Damage.flip(shutdown, FileKind.WAL, segment, lsn - base + 50, 4);
    }

    /** The offsets of the records of a manifest (the WAL's framing: a 40-byte header with the payload length). */
    private static List<Long> recordOffsets(byte[] manifest) {
        List<Long> offsets = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(manifest).order(WalRecordDescriptor.ORDER);
        for (int at = 0; at + WalRecordDescriptor.HEADER_LENGTH <= manifest.length;
             at += WalRecordDescriptor.HEADER_LENGTH + b.getInt(at + WalRecordDescriptor.STORED_LENGTH_OFFSET)) {
            offsets.add((long) at);
        }
        return offsets;
    }

    /** Every file of the database (LOCK aside, which any open creates), with its bytes. */
    private static Map<Path, byte[]> files(SimulatedStorageEnv env) throws IOException {
        Map<Path, byte[]> out = new TreeMap<>();
        for (Path d : new Path[] {DIR, DIR.resolve(Wal.WAL_DIR), DIR.resolve(DbFiles.SST_DIR), DIR.resolve(Wal.LOST_DIR)}) {
            for (Path p : env.list(d)) {
                if (!p.getFileName().toString().equals(DbFiles.LOCK)) {
                    out.put(p, env.readAllBytes(p));
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ one trial

    /** One damaged copy: which reference, which file, where, and how. */
    record Damage(long seed, Shutdown shutdown, FileKind kind, Path file, long offset, int length, int bit) {
        /** A single bit flip when {@code bit >= 0}, else {@code length} zeroed bytes. */
        static Damage choose(long seed) {
            // SplittableRandom mixes its seed: java.util.Random's first outputs for consecutive seeds are alike.
            SplittableRandom r = new SplittableRandom(seed);
            Shutdown shutdown = r.nextBoolean() ? Shutdown.CLOSED : Shutdown.CRASHED;
            Reference ref = reference(shutdown);
            FileKind kind = pickKind(r);
            List<Path> candidates = ref.filesOf(kind);
            Path file = candidates.get(r.nextInt(candidates.size()));
            int size = ref.files.get(file).length;
            long offset = r.nextInt(size);
            if (r.nextBoolean()) {
                return new Damage(seed, shutdown, kind, file, offset, 1, r.nextInt(8));
            }
            int length = (int) Math.min(1 + r.nextInt(4096), size - offset);
            return new Damage(seed, shutdown, kind, file, offset, length, -1);
        }

        static Damage flip(Shutdown shutdown, FileKind kind, Path file, long offset, int bit) {
            return new Damage(-1, shutdown, kind, file, offset, 1, bit);
        }

        static Damage zero(Shutdown shutdown, FileKind kind, Path file, long offset, int length) {
            return new Damage(-1, shutdown, kind, file, offset, length, -1);
        }

        private static FileKind pickKind(SplittableRandom r) {
            int total = 0;
            for (FileKind k : FileKind.values()) {
                total += k.weight;
            }
            int dice = r.nextInt(total);
            for (FileKind k : FileKind.values()) {
                dice -= k.weight;
                if (dice < 0) {
                    return k;
                }
            }
            throw new AssertionError();
        }

        void applyTo(SimulatedStorageEnv env) throws IOException {
            if (bit >= 0) {
                env.flipBit(file, offset, bit);
            } else {
                env.writeRaw(file, offset, new byte[length]);
            }
        }

        long lastByte() {
            return offset + length - 1;
        }

        @Override
        public String toString() {
            return shutdown + " reference, " + file.getFileName() + " (" + kind + "), "
                    + (bit >= 0 ? "bit " + bit + " flipped at offset " + offset
                    : length + " bytes zeroed at offset " + offset);
        }
    }

    /** What a trial found. */
    record Trial(Outcome outcome, String detail) {
    }

    static Trial runTrial(Damage damage) throws IOException {
        Reference ref = reference(damage.shutdown);
        SimulatedStorageEnv env = ref.materialize();
        damage.applyTo(env);
        Db db;
        try {
            db = Db.open(env, DIR, options());
        } catch (StorageException e) {
            checkNamesTheDamage(e, damage);
            // A refusal must not destroy what it refuses to drop (the first open may already have rewritten the
            // manifest or removed orphans): the next open refuses as well.
            try (Db again = Db.open(env, DIR, options())) {
                throw new AssertionError("the first open was refused (" + e.getMessage() + "), a second one succeeded: "
                        + again.recoveryReport());
            } catch (StorageException second) {
                checkNamesTheDamage(second, damage);
            }
            return new Trial(Outcome.DETECTED, "at open: " + e.getMessage());
        }
        Observed observed;
        DbRecoveryReport report;
        try {
            report = db.recoveryReport();
            observed = Observed.read(db, ref.universe);
        } finally {
            db.close();
        }
        for (StorageException e : observed.errors) {
            checkNamesTheDamage(e, damage);
        }
        if (!observed.errors.isEmpty()) {
            // Detected on read: the reads that succeeded must still be right.
            String wrong = observed.mismatch(ref.expected);
            if (wrong != null) {
                throw new AssertionError(wrong + " (besides " + observed.errors.size() + " detected errors)\n" + report);
            }
            return new Trial(Outcome.DETECTED, "on read: " + observed.errors.get(0).getMessage());
        }
        List<DroppedRange> dropped = report.wal() == null ? List.of() : report.wal().dropped();
        String againstReference = observed.mismatch(ref.expected);
        if (againstReference == null) {
            checkReopens(env, ref.expected, damage);
            return new Trial(Outcome.HARMLESS, report.toString());
        }
        NavigableMap<byte[], byte[]> withoutDropped = ref.expectedWithout(dropped);
        String againstLoss = dropped.isEmpty() ? againstReference : observed.mismatch(withoutDropped);
        if (againstLoss != null) {
            throw new AssertionError(againstReference + (dropped.isEmpty() ? " and the recovery report lists no loss"
                    : "; nor does it match the reference without the dropped ranges: " + againstLoss) + "\n" + report);
        }
        checkLossIsAcceptable(ref, damage, dropped, env, report);
        checkReopens(env, withoutDropped, damage);
        return new Trial(Outcome.REPORTED_LOSS, report.toString());
    }

    /**
     * Reported loss is accepted only where the default mode may drop: the last records of a log that nothing proves
     * durable. That is never the case after a clean close (the manifest records the log's durable end), and never
     * for records before the damaged one. And what was dropped must be named and quarantined.
     */
    private static void checkLossIsAcceptable(Reference ref, Damage damage, List<DroppedRange> dropped,
                                              SimulatedStorageEnv env, DbRecoveryReport report) {
        if (damage.shutdown == Shutdown.CLOSED) {
            throw new AssertionError("acknowledged records of a cleanly closed database were dropped: " + report);
        }
        if (damage.kind != FileKind.WAL) {
            throw new AssertionError("a WAL range was dropped for damage to " + damage.file.getFileName() + ": " + report);
        }
        long damagedLsn = Long.parseLong(damage.file.getFileName().toString().replace(".wal", "")) + damage.offset;
        long damagedRecord = Long.MIN_VALUE;
        for (LoggedBatch b : ref.afterCheckpoint) {
            if (b.lsn <= damagedLsn) {
                damagedRecord = b.lsn;
            }
        }
        for (DroppedRange range : dropped) {
            if (range.fromLsn() < damagedRecord) {
                throw new AssertionError("records before the damaged one (LSN " + damagedRecord + ") were dropped: "
                        + report);
            }
            if (range.segment().isEmpty() || (range.bytes() > 0 && range.quarantineFile() == null)) {
                throw new AssertionError("a dropped range without its segment or quarantine: " + report);
            }
            if (range.quarantineFile() != null && !env.exists(DIR.resolve(Wal.LOST_DIR).resolve(range.quarantineFile()))) {
                throw new AssertionError("quarantine file missing: " + report);
            }
        }
    }

    /** The first open repaired what it accepted: the next one finds the same contents and drops nothing more. */
    private static void checkReopens(SimulatedStorageEnv env, NavigableMap<byte[], byte[]> expected, Damage damage) {
        try (Db db = Db.open(env, DIR, options())) {
            Observed again = Observed.read(db, reference(damage.shutdown).universe);
            String wrong = again.errors.isEmpty() ? again.mismatch(expected) : again.errors.get(0).getMessage();
            if (wrong != null) {
                throw new AssertionError("after a second open: " + wrong + "\n" + db.recoveryReport());
            }
            if (!db.recoveryReport().wal().dropped().isEmpty()) {
                throw new AssertionError("the second open dropped more: " + db.recoveryReport());
            }
        }
    }

    /** A corruption error must say which file and where: the damaged file's name and an offset at or before it. */
    static void checkNamesTheDamage(StorageException e, Damage damage) {
        if (e.code() != ErrorCode.CORRUPTION) {
            throw new AssertionError("expected a CORRUPTION error, got " + e.code() + ": " + e.getMessage(), e);
        }
        String message = e.getMessage();
        if (!message.contains(damage.file.getFileName().toString())) {
            throw new AssertionError("the error does not name " + damage.file.getFileName() + ": " + message, e);
        }
        Matcher m = OFFSET.matcher(message);
        boolean found = false;
        while (m.find()) {
            long named = Long.parseLong(m.group(1));
            found |= named <= damage.lastByte();
        }
        if (!found) {
            throw new AssertionError("the error names no offset at or before the damage (last damaged byte "
                    + damage.lastByte() + "): " + message, e);
        }
    }

    /** Every key read with get, and a full scan; corruption errors collected rather than thrown. */
    static final class Observed {
        final Map<byte[], byte[]> gets = new LinkedHashMap<>();
        final List<KeyValue> scanned = new ArrayList<>();
        boolean scanComplete;
        final List<StorageException> errors = new ArrayList<>();

        static Observed read(Db db, List<byte[]> universe) {
            Observed o = new Observed();
            for (byte[] key : universe) {
                try {
                    o.gets.put(key, db.get(key));
                } catch (StorageException e) {
                    o.errors.add(e);
                }
            }
            try (DbIterator it = db.scan(null, null)) {
                while (it.hasNext()) {
                    o.scanned.add(it.next());
                }
                o.scanComplete = true;
            } catch (StorageException e) {
                o.errors.add(e);
            }
            return o;
        }

        /** Null if every successful read agrees with {@code expected}, else what differs first. */
        String mismatch(NavigableMap<byte[], byte[]> expected) {
            for (Map.Entry<byte[], byte[]> g : gets.entrySet()) {
                byte[] want = expected.get(g.getKey());
                byte[] got = g.getValue();
                if (!Arrays.equals(want, got)) {
                    return describe("get", g.getKey(), want, got);
                }
            }
            Iterator<Map.Entry<byte[], byte[]>> want = expected.entrySet().iterator();
            for (KeyValue kv : scanned) {
                if (!want.hasNext()) {
                    return "scan returned extra key " + show(kv.key());
                }
                Map.Entry<byte[], byte[]> w = want.next();
                if (!Arrays.equals(w.getKey(), kv.key())) {
                    return Arrays.compareUnsigned(w.getKey(), kv.key()) < 0
                            ? "scan misses key " + show(w.getKey()) : "scan returned extra key " + show(kv.key());
                }
                if (!Arrays.equals(w.getValue(), kv.value())) {
                    return describe("scan", kv.key(), w.getValue(), kv.value());
                }
            }
            if (scanComplete && want.hasNext()) {
                return "scan misses key " + show(want.next().getKey());
            }
            return null;
        }

        private static String describe(String how, byte[] key, byte[] want, byte[] got) {
            if (want == null) {
                return how + " of " + show(key) + " returned a value for a deleted or never-written key (resurrected)";
            }
            if (got == null) {
                return how + " of " + show(key) + " found nothing: key missing";
            }
            return how + " of " + show(key) + " returned a wrong value";
        }
    }

    /** Null if both maps hold the same keys and values, else the first key that differs. */
    static String difference(NavigableMap<byte[], byte[]> a, NavigableMap<byte[], byte[]> b) {
        for (Map.Entry<byte[], byte[]> e : a.entrySet()) {
            if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) {
                return "differs at " + show(e.getKey());
            }
        }
        for (byte[] k : b.keySet()) {
            if (!a.containsKey(k)) {
                return "differs at " + show(k);
            }
        }
        return null;
    }

    private static String show(byte[] key) {
        return new String(key, StandardCharsets.ISO_8859_1);
    }

    // ------------------------------------------------------------------------------------------ the reference

    /** A write batch logged after the last checkpoint, with its LSN: what a dropped WAL range can take away. */
    record LoggedBatch(long lsn, List<Object[]> ops) {
    }

    /** The reference database: its files, its contents, and what is only in the WAL. */
    static final class Reference {
        final Map<Path, byte[]> files = new TreeMap<>();
        final NavigableMap<byte[], byte[]> expected;
        /** The contents at the last checkpoint (what the tables hold). */
        final NavigableMap<byte[], byte[]> atCheckpoint;
        final List<LoggedBatch> afterCheckpoint = new ArrayList<>();
        /** Every key ever written or deleted, and a few never written. */
        final List<byte[]> universe;
        long fingerprint;

        Reference(NavigableMap<byte[], byte[]> expected, NavigableMap<byte[], byte[]> atCheckpoint, List<byte[]> universe) {
            this.expected = expected;
            this.atCheckpoint = atCheckpoint;
            this.universe = universe;
        }

        List<Path> filesOf(FileKind kind) {
            List<Path> out = new ArrayList<>();
            for (Path p : files.keySet()) {
                String name = p.getFileName().toString();
                String parent = p.getParent().getFileName() == null ? "" : p.getParent().getFileName().toString();
                boolean matches = switch (kind) {
                    case WAL -> parent.equals(Wal.WAL_DIR) && name.endsWith(".wal");
                    case SST -> parent.equals(DbFiles.SST_DIR) && name.endsWith(DbFiles.SST_SUFFIX);
                    case MANIFEST -> DbFiles.manifestNumber(name) >= 0;
                    case CURRENT -> name.equals(DbFiles.CURRENT);
                };
                if (matches) {
                    out.add(p);
                }
            }
            return out;
        }

        SimulatedStorageEnv materialize() throws IOException {
            SimulatedStorageEnv env = new SimulatedStorageEnv();
            env.createDirectories(DIR.resolve(Wal.WAL_DIR));
            env.createDirectories(DIR.resolve(DbFiles.SST_DIR));
            for (Map.Entry<Path, byte[]> f : files.entrySet()) {
                try (StorageFile out = env.openForWrite(f.getKey())) {
                    out.write(0, ByteBuffer.wrap(f.getValue()));
                    out.force();
                }
            }
            env.syncDirectory(DIR);
            env.syncDirectory(DIR.resolve(Wal.WAL_DIR));
            env.syncDirectory(DIR.resolve(DbFiles.SST_DIR));
            return env;
        }

        /** The contents if the batches logged in {@code dropped} ranges had never been written. */
        NavigableMap<byte[], byte[]> expectedWithout(List<DroppedRange> dropped) {
            NavigableMap<byte[], byte[]> state = new TreeMap<>(Arrays::compareUnsigned);
            state.putAll(atCheckpoint);
            for (LoggedBatch batch : afterCheckpoint) {
                boolean lost = false;
                for (DroppedRange r : dropped) {
                    // A cut drops everything from its start, including records the damage zeroed (its toLsn
                    // is only the end of the non-zero bytes); a skip drops exactly its range.
                    boolean cut = r.kind() != DroppedRange.Kind.SKIPPED_CORRUPTION;
                    lost |= batch.lsn >= r.fromLsn() && (cut || batch.lsn < r.toLsn());
                }
                if (!lost) {
                    for (Object[] op : batch.ops) {
                        apply(state, (byte[]) op[0], (byte[]) op[1]);
                    }
                }
            }
            return state;
        }
    }

    static synchronized Reference reference(Shutdown shutdown) {
        return REFERENCES.computeIfAbsent(shutdown, s -> {
            try {
                return build(s);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static void apply(Map<byte[], byte[]> state, byte[] key, byte[] value) {
        if (value == null) {
            state.remove(key);
        } else {
            state.put(key, value);
        }
    }

    private static byte[] key(int k) {
        return String.format("key-%05d", k).getBytes(StandardCharsets.US_ASCII);
    }

    /** Compressible text most of the time (so LZ4 blocks are common), sometimes random bytes, sometimes empty. */
    private static byte[] value(Random r, int k, int version) {
        int kind = r.nextInt(10);
        if (kind == 0) {
            return new byte[0];
        }
        if (kind <= 3) {
            byte[] v = new byte[1 + r.nextInt(300)];
            r.nextBytes(v);
            return v;
        }
        StringBuilder sb = new StringBuilder();
        int repeat = 1 + r.nextInt(12);
        for (int i = 0; i < repeat; i++) {
            sb.append("value of ").append(k).append(" version ").append(version).append("; ");
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Writes a round of random puts, deletes and batches with one writer (SYNC, the default): each returns only
     * once durable. Small key space, so overwrites and deletes of keys held in tables are common.
     */
    private static void writeRound(Db db, Random r, NavigableMap<byte[], byte[]> model, int ops, int[] version) {
        for (int i = 0; i < ops; i++) {
            int dice = r.nextInt(100);
            if (dice < 70) {
                int k = r.nextInt(KEYS);
                byte[] v = value(r, k, version[0]++);
                db.put(key(k), v);
                model.put(key(k), v);
            } else if (dice < 85) {
                int k = r.nextInt(KEYS);
                db.delete(key(k));
                model.remove(key(k));
            } else {
                WriteBatch batch = new WriteBatch();
                Map<byte[], byte[]> effect = new TreeMap<>(Arrays::compareUnsigned);
                for (int n = 1 + r.nextInt(5); n > 0; n--) {
                    int k = r.nextInt(KEYS);
                    if (r.nextInt(4) == 0) {
                        batch.delete(key(k));
                        effect.put(key(k), null);
                    } else {
                        byte[] v = value(r, k, version[0]++);
                        batch.put(key(k), v);
                        effect.put(key(k), v);
                    }
                }
                db.write(batch);
                effect.forEach((k, v) -> apply(model, k, v));
            }
        }
    }

    private static Reference build(Shutdown shutdown) throws IOException {
        Random r = new Random(BUILD_SEED);
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        NavigableMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        int[] version = {0};
        Db db = Db.open(env, DIR, options());
        // Explicit flushes, each followed by compaction until quiet: with one writer and no background work
        // running concurrently with writes, the files come out the same in every run.
        for (int round = 0; round < 8; round++) {
            writeRound(db, r, model, 400, version);
            db.flush();
            db.compact();
        }
        for (int round = 0; round < 2; round++) { // two level-0 tables, below the compaction trigger
            writeRound(db, r, model, 60, version);
            db.flush();
            db.compact();
        }
        NavigableMap<byte[], byte[]> atCheckpoint = new TreeMap<>(Arrays::compareUnsigned);
        atCheckpoint.putAll(model);
        writeRound(db, r, model, 80, version); // only in the WAL
        DbStats stats = db.stats();
        long checkpoint = stats.checkpointLsn();
        if (shutdown == Shutdown.CLOSED) {
            db.close();
        } else {
            env.crashProcess();
        }
        List<byte[]> universe = new ArrayList<>();
        for (int k = 0; k < KEYS; k++) {
            universe.add(key(k));
        }
        universe.add(new byte[0]);
        universe.add("zzz".getBytes(StandardCharsets.US_ASCII));
        Reference ref = new Reference(model, atCheckpoint, universe);
        for (String sub : new String[] {"", Wal.WAL_DIR, DbFiles.SST_DIR}) {
            Path d = sub.isEmpty() ? DIR : DIR.resolve(sub);
            for (Path p : env.list(d)) {
                String name = p.getFileName().toString();
                if (!name.equals(DbFiles.LOCK) && !name.endsWith(".prealloc")) {
                    ref.files.put(p, env.readAllBytes(p));
                }
            }
        }
        if (shutdown == Shutdown.CRASHED) {
            try {
                db.close(); // the dead process's threads stop; its file handles are dead, so nothing changes
            } catch (RuntimeException expected) {
                // closing a crashed Db may fail on its dead handles
            }
        }
        long walStart = Long.parseLong(ref.filesOf(FileKind.WAL).get(0).getFileName().toString().replace(".wal", ""));
        try (WalReader reader = WalReader.open(env, DIR.resolve(Wal.WAL_DIR), walStart)) {
            while (reader.next()) {
                if (reader.lsn() >= checkpoint && reader.type() == RecordType.WRITE_BATCH) {
                    List<Object[]> ops = new ArrayList<>();
                    WriteBatchFormat.decode(reader.payload(), reader.payloadOffset(), reader.payloadLength(), reader.lsn(),
                            (i, kind, key, value) -> ops.add(new Object[] {key, kind == EntryKind.PUT ? value : null}));
                    ref.afterCheckpoint.add(new LoggedBatch(reader.lsn(), ops));
                }
            }
        }
        CRC32C crc = new CRC32C();
        ref.files.forEach((p, bytes) -> {
            crc.update(p.toString().getBytes(StandardCharsets.UTF_8));
            crc.update(bytes);
        });
        ref.fingerprint = crc.getValue();
        System.out.printf("reference %s: %d files, levels %s, checkpoint LSN %d, %d batches after it, fingerprint %x%n",
                shutdown, ref.files.size(), stats.levelFiles(), checkpoint, ref.afterCheckpoint.size(), ref.fingerprint);
        // The reference must be what it claims: tables in several levels, a log of several segments after the
        // checkpoint, several manifest edits, and an undamaged copy that opens to exactly the model.
        assertThat(difference(ref.expectedWithout(List.of()), model)).as("WAL after the checkpoint replays to the model")
                .isNull();
        assertThat(ref.filesOf(FileKind.WAL)).as("WAL segments").hasSizeGreaterThanOrEqualTo(3);
        assertThat(ref.filesOf(FileKind.SST)).as("tables").hasSizeGreaterThanOrEqualTo(5);
        assertThat(stats.levelFiles().stream().filter(n -> n > 0).count()).as("levels with tables " + stats.levelFiles())
                .isGreaterThanOrEqualTo(3);
        SimulatedStorageEnv copy = ref.materialize();
        try (Db reopened = Db.open(copy, DIR, options())) {
            Observed o = Observed.read(reopened, universe);
            assertThat(o.errors).isEmpty();
            assertThat(o.mismatch(model)).as("undamaged copy").isNull();
            assertThat(reopened.recoveryReport().wal().dropped()).isEmpty();
        }
        return ref;
    }
}
