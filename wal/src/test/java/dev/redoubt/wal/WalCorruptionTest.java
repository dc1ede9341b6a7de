package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Damage in the log, one test per case (LevelDB's {@code log_test}): torn tails are the end of the log, a
 * flipped bit in an earlier record is reported, skipped or cut according to the recovery mode.
 */
class WalCorruptionTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final int SEGMENT = 4096;

    private final Random random = new Random(SEED);

    /** Builds a log of {@code count} SYNC records and returns what was appended. */
    private static List<WalTestLog.Appended> build(SimulatedStorageEnv env, Random random, int count) {
        try (Wal wal = Wal.open(env, WalTestLog.DIR, WalOptions.defaults().segmentBytes(SEGMENT))) {
            return WalTestLog.appendRandom(wal, random, count, 300);
        }
    }

    private static Wal open(SimulatedStorageEnv env, RecoveryMode mode) {
        return Wal.open(env, WalTestLog.DIR, WalOptions.defaults().segmentBytes(SEGMENT).recoveryMode(mode));
    }

    private static int recordLength(WalTestLog.Appended a) {
        return WalRecordDescriptor.HEADER_LENGTH + a.payload().length;
    }

    @Test
    void tornTailCutAtEveryByteOfTheLastRecordIsTheEndOfTheLog() throws IOException {
        SimulatedStorageEnv original = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(original, random, 12);
        WalTestLog.Appended last = appended.get(appended.size() - 1);
        Path segment = WalTestLog.segmentOf(last.lsn(), SEGMENT);
        byte[] bytes = original.readAllBytes(segment);
        int start = (int) (last.lsn() % SEGMENT);
        for (int cut = 0; cut < recordLength(last); cut++) {
            for (boolean garbage : new boolean[] {false, true}) {
                SimulatedStorageEnv env = copyOf(original);
                byte[] torn = new byte[recordLength(last) - cut];
                if (garbage) {
                    new Random(SEED + cut).nextBytes(torn);
                }
                // Bytes equal to what was there are no tear: garbage that drew the original byte, or zeros over a
                // payload that ended in zero, let the record read back intact (1 run in 256 each; seen in CI
                // and in a seed stress).
                if (Arrays.equals(torn, 0, torn.length, bytes, start + cut, start + recordLength(last))) {
                    torn[0] ^= 1;
                }
                env.writeRaw(segment, start + cut, torn);
                try (Wal wal = open(env, RecoveryMode.TOLERATE_CORRUPTED_TAIL)) {
                    String context = "seed " + SEED + " cut " + cut + " garbage " + garbage + ": " + wal.recoveryReport();
                    WalTestLog.assertSameRecords(context, WalTestLog.readAll(wal), appended.subList(0, appended.size() - 1));
                    assertThat(wal.recoveryReport().acknowledgedLoss()).as(context).isFalse();
                    assertThat(wal.writtenLsn()).as(context).isEqualTo(last.lsn());
                    if (cut > 0 || garbage) {
                        assertThat(wal.recoveryReport().dropped()).as(context).hasSize(1);
                        assertThat(wal.recoveryReport().dropped().get(0).kind()).isEqualTo(DroppedRange.Kind.TORN_TAIL);
                        assertThat(wal.recoveryReport().dropped().get(0).fromLsn()).isEqualTo(last.lsn());
                        assertThat(env.list(WalTestLog.DIR.resolve(Wal.LOST_DIR))).as(context).hasSize(1);
                    }
                    // The log continues where the torn record began.
                    long next = wal.append(RecordType.WRITE_BATCH, new byte[] {42});
                    assertThat(next).as(context).isEqualTo(last.lsn());
                }
            }
        }
        assertThat(bytes).isNotEmpty();
    }

    @Test
    void tornTailRefusesToOpenInAbsoluteConsistency() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(env, random, 5);
        WalTestLog.Appended last = appended.get(appended.size() - 1);
        env.writeRaw(WalTestLog.segmentOf(last.lsn(), SEGMENT), last.lsn() % SEGMENT + 10, new byte[] {0, 0, 0, 0});
        assertThatThrownBy(() -> open(env, RecoveryMode.ABSOLUTE_CONSISTENCY))
                .isInstanceOf(WalCorruptionException.class)
                .hasMessageContaining("LSN " + last.lsn())
                .hasMessageContaining("TOLERATE_CORRUPTED_TAIL");
    }

    @Test
    void bitFlipInAnEarlierRecordIsReportedWithSegmentOffsetAndLsnInAbsoluteConsistency() throws IOException {
        for (int trial = 0; trial < 40; trial++) {
            SimulatedStorageEnv env = new SimulatedStorageEnv();
            List<WalTestLog.Appended> appended = build(env, random, 30);
            WalTestLog.Appended victim = appended.get(random.nextInt(appended.size() - 1));
            flipRandomBit(env, victim);
            String context = "seed " + SEED + " trial " + trial + " victim LSN " + victim.lsn();
            assertThatThrownBy(() -> open(env, RecoveryMode.ABSOLUTE_CONSISTENCY))
                    .as(context)
                    .isInstanceOfSatisfying(WalCorruptionException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
                        assertThat(e.lsn()).isEqualTo(victim.lsn());
                        assertThat(e.segment()).isEqualTo(WalTestLog.segmentOf(victim.lsn(), SEGMENT).getFileName().toString());
                        assertThat(e.offset()).isEqualTo(victim.lsn() % SEGMENT);
                        assertThat(e.provenDurable()).isTrue();
                        assertThat(e.getMessage()).contains("segment " + e.segment(), "offset " + e.offset());
                    });
        }
    }

    @Test
    void bitFlipInAnAcknowledgedRecordRefusesToOpenInTheDefaultMode() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(env, random, 30);
        WalTestLog.Appended victim = appended.get(10);
        flipRandomBit(env, victim);
        assertThatThrownBy(() -> open(env, RecoveryMode.TOLERATE_CORRUPTED_TAIL))
                .isInstanceOfSatisfying(WalCorruptionException.class, e -> {
                    assertThat(e.lsn()).isEqualTo(victim.lsn());
                    assertThat(e.provenDurable()).isTrue();
                    assertThat(e.getMessage()).contains("acknowledged", "POINT_IN_TIME", "SKIP_CORRUPTED");
                });
        // Refusing changed nothing: no quarantine, and the other modes still see the whole log.
        assertThat(env.list(WalTestLog.DIR.resolve(Wal.LOST_DIR))).isEmpty();
    }

    @Test
    void bitFlipInAnEarlierRecordIsSkippedAndCountedInSkipCorrupted() throws IOException {
        for (int trial = 0; trial < 40; trial++) {
            SimulatedStorageEnv env = new SimulatedStorageEnv();
            List<WalTestLog.Appended> appended = build(env, random, 30);
            int victimIndex = random.nextInt(appended.size() - 1);
            WalTestLog.Appended victim = appended.get(victimIndex);
            flipRandomBit(env, victim);
            String context = "seed " + SEED + " trial " + trial + " victim LSN " + victim.lsn();
            List<WalTestLog.Appended> expected = new java.util.ArrayList<>(appended);
            expected.remove(victimIndex);
            try (Wal wal = open(env, RecoveryMode.SKIP_CORRUPTED)) {
                RecoveryReport report = wal.recoveryReport();
                assertThat(report.dropped()).as(context).hasSize(1);
                DroppedRange skipped = report.dropped().get(0);
                assertThat(skipped.kind()).isEqualTo(DroppedRange.Kind.SKIPPED_CORRUPTION);
                assertThat(skipped.fromLsn()).as(context).isEqualTo(victim.lsn());
                // The range ends where the next valid record begins: the next record, or padding before it,
                // or the next segment when too little space is left for padding.
                long victimEnd = victim.lsn() + recordLength(victim);
                long expectedTo = SEGMENT - victimEnd % SEGMENT < WalRecordDescriptor.HEADER_LENGTH
                        ? (victimEnd / SEGMENT + 1) * SEGMENT : victimEnd;
                assertThat(skipped.toLsn()).as(context).isEqualTo(expectedTo);
                assertThat(skipped.provenDurable()).isTrue();
                assertThat(report.acknowledgedLoss()).isTrue();
                assertThat(report.recordsRead()).isEqualTo(appended.size() - 1);
                WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), expected);
            }
            // The skipped range was overwritten with padding: the log now opens clean in the default mode.
            try (Wal wal = open(env, RecoveryMode.TOLERATE_CORRUPTED_TAIL)) {
                assertThat(wal.recoveryReport().clean()).as(context).isTrue();
                WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), expected);
            }
        }
    }

    @Test
    void recoveryStopsBeforeAFlippedBitInPointInTime() throws IOException {
        for (int trial = 0; trial < 40; trial++) {
            SimulatedStorageEnv env = new SimulatedStorageEnv();
            List<WalTestLog.Appended> appended = build(env, random, 30);
            int victimIndex = random.nextInt(appended.size() - 1);
            WalTestLog.Appended victim = appended.get(victimIndex);
            flipRandomBit(env, victim);
            String context = "seed " + SEED + " trial " + trial + " victim LSN " + victim.lsn();
            try (Wal wal = open(env, RecoveryMode.POINT_IN_TIME)) {
                RecoveryReport report = wal.recoveryReport();
                assertThat(report.endLsn()).as(context).isEqualTo(victim.lsn());
                assertThat(report.acknowledgedLoss()).as(context).isTrue();
                assertThat(report.dropped().get(0).recordsAfter()).isEqualTo(appended.size() - 1 - victimIndex);
                WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), appended.subList(0, victimIndex));
            }
        }
    }

    @Test
    void staleSegmentFromAnOlderLogIsNeverReadAsLiveRecords() throws IOException {
        SimulatedStorageEnv older = new SimulatedStorageEnv();
        build(older, random, 40);
        byte[] staleSegment = older.readAllBytes(SegmentFiles.segmentPath(WalTestLog.WAL_DIR, 0));

        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(env, random, 3);
        long end = appended.get(2).lsn() + recordLength(appended.get(2));
        // A reused segment: the older log's segment 0 sits where this log's next segment will be,
        // and its bytes also fill this log's unused space at a shifted position.
        writeFile(env, SegmentFiles.segmentPath(WalTestLog.WAL_DIR, SEGMENT), staleSegment);
        env.writeRaw(WalTestLog.segmentOf(0, SEGMENT), end + 1, java.util.Arrays.copyOf(staleSegment,
                (int) (SEGMENT - end - 1)));
        try (Wal wal = open(env, RecoveryMode.TOLERATE_CORRUPTED_TAIL)) {
            assertThat(wal.recoveryReport().recordsRead()).isEqualTo(3);
            assertThat(wal.writtenLsn()).isEqualTo(end);
            WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), appended);
            wal.append(RecordType.WRITE_BATCH, new byte[] {7});
            assertThat(WalTestLog.readAll(wal)).hasSize(4);
        }
        try (Wal wal = open(env, RecoveryMode.ABSOLUTE_CONSISTENCY)) {
            assertThat(WalTestLog.readAll(wal)).hasSize(4);
        }
    }

    @Test
    void unfinishedPreallocationIsDeletedAtOpen() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        build(env, random, 3);
        Path prealloc = SegmentFiles.preallocPath(WalTestLog.WAL_DIR, 1L << 20);
        writeFile(env, prealloc, new byte[100]);
        try (Wal wal = open(env, RecoveryMode.TOLERATE_CORRUPTED_TAIL)) {
            assertThat(env.exists(prealloc)).isFalse();
            assertThat(WalTestLog.readAll(wal)).hasSize(3);
        }
    }

    @Test
    void missingMiddleSegmentIsDamageNotTheEnd() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(env, random, 150);
        List<Path> segments = env.list(WalTestLog.WAL_DIR);
        assertThat(segments.size()).isGreaterThan(3);
        env.delete(segments.get(1));
        env.syncDirectory(WalTestLog.WAL_DIR);
        assertThatThrownBy(() -> open(env, RecoveryMode.TOLERATE_CORRUPTED_TAIL))
                .isInstanceOf(WalCorruptionException.class)
                .hasMessageContaining("missing or overlapping segment");
        try (Wal wal = open(env, RecoveryMode.POINT_IN_TIME)) {
            long cut = SegmentFiles.parseSegmentBase(segments.get(1));
            assertThat(wal.recoveryReport().acknowledgedLoss()).isTrue();
            List<WalTestLog.Read> read = WalTestLog.readAll(wal);
            assertThat(read).allSatisfy(r -> assertThat(r.lsn()).isLessThan(cut));
            assertThat(read.size()).isLessThan(appended.size());
        }
    }

    @Test
    void damagedLastRecordBelowTheKnownDurableLsnIsRefusedNotDroppedAsATornTail() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(env, random, 12);
        WalTestLog.Appended last = appended.get(appended.size() - 1);
        long end = last.lsn() + recordLength(last);
        flipRandomBit(env, last);
        // Nothing in the log proves the last record durable; the caller (the engine's manifest) knows it was.
        assertThatThrownBy(() -> Wal.open(env, WalTestLog.DIR,
                WalOptions.defaults().segmentBytes(SEGMENT).knownDurableLsn(end)))
                .isInstanceOfSatisfying(WalCorruptionException.class, e -> {
                    assertThat(e.lsn()).isEqualTo(last.lsn());
                    assertThat(e.provenDurable()).isTrue();
                    assertThat(e.getMessage()).contains("known durable up to LSN " + end);
                });
        assertThat(env.list(WalTestLog.DIR.resolve(Wal.LOST_DIR))).isEmpty();
        // Without that knowledge it is the end of the log; POINT_IN_TIME with it drops it flagged as acknowledged.
        try (Wal wal = Wal.open(env, WalTestLog.DIR, WalOptions.defaults().segmentBytes(SEGMENT)
                .recoveryMode(RecoveryMode.POINT_IN_TIME).knownDurableLsn(end))) {
            assertThat(wal.recoveryReport().acknowledgedLoss()).isTrue();
            assertThat(wal.recoveryReport().dropped()).singleElement()
                    .satisfies(d -> assertThat(d.fromLsn()).isEqualTo(last.lsn()));
            WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), appended.subList(0, appended.size() - 1));
        }
    }

    @Test
    void zeroedLastRecordBelowTheKnownDurableLsnIsRefused() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(env, random, 12);
        WalTestLog.Appended last = appended.get(appended.size() - 1);
        long end = last.lsn() + recordLength(last);
        env.writeRaw(WalTestLog.segmentOf(last.lsn(), SEGMENT), last.lsn() % SEGMENT, new byte[recordLength(last)]);
        assertThatThrownBy(() -> Wal.open(env, WalTestLog.DIR,
                WalOptions.defaults().segmentBytes(SEGMENT).knownDurableLsn(end)))
                .isInstanceOfSatisfying(WalCorruptionException.class, e -> assertThat(e.lsn()).isEqualTo(last.lsn()));
        // Past the known durable end, zeros are the end of the log as always.
        try (Wal wal = Wal.open(env, WalTestLog.DIR, WalOptions.defaults().segmentBytes(SEGMENT).knownDurableLsn(last.lsn()))) {
            assertThat(wal.writtenLsn()).isEqualTo(last.lsn());
            assertThat(wal.recoveryReport().dropped()).isEmpty();
        }
    }

    @Test
    void logEndingBelowTheKnownDurableLsnIsMissingItsLastSegment() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> appended = build(env, random, 150);
        WalTestLog.Appended last = appended.get(appended.size() - 1);
        long end = last.lsn() + recordLength(last);
        List<Path> segments = env.list(WalTestLog.WAL_DIR);
        assertThat(segments.size()).isGreaterThan(2);
        env.delete(segments.get(segments.size() - 1));
        env.syncDirectory(WalTestLog.WAL_DIR);
        assertThatThrownBy(() -> Wal.open(env, WalTestLog.DIR,
                WalOptions.defaults().segmentBytes(SEGMENT).knownDurableLsn(end)))
                .isInstanceOf(WalCorruptionException.class)
                .hasMessageContaining("its last segments are missing");
    }

    @Test
    void recordFileDamageFollowedByAValidRecordIsCorruptionEvenWhenZeroed() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Path file = WalTestLog.DIR.resolve("MANIFEST-000001");
        env.createDirectories(WalTestLog.DIR);
        long second;
        try (RecordFile f = RecordFile.create(env, file)) {
            f.append(new byte[] {1, 2, 3});
            second = f.append(new byte[] {4, 5, 6});
            f.append(new byte[] {7, 8, 9});
        }
        env.writeRaw(file, second, new byte[WalRecordDescriptor.HEADER_LENGTH]);
        // A record file is never preallocated: zeros before a valid record are damage, not the end of the file.
        assertThatThrownBy(() -> RecordFile.read(env, file)).isInstanceOfSatisfying(
                dev.redoubt.common.StorageException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
                    assertThat(e.getMessage()).contains("MANIFEST-000001", "offset " + second, "zero-filled")
                            .doesNotContain("null");
                });
    }

    @Test
    void emptySegmentFileIsTheEndOfTheLogNotAnEndlessLoop() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        env.createDirectories(WalTestLog.WAL_DIR);
        writeFile(env, SegmentFiles.segmentPath(WalTestLog.WAL_DIR, 0), new byte[0]);
        try (WalReader reader = WalReader.open(env, WalTestLog.WAL_DIR, 0)) {
            assertThat(reader.next()).isFalse();
            assertThat(reader.status()).isEqualTo(WalReader.Status.END);
        }
        try (Wal wal = open(env, RecoveryMode.TOLERATE_CORRUPTED_TAIL)) {
            long lsn = wal.append(RecordType.WRITE_BATCH, new byte[] {1});
            assertThat(WalTestLog.readAll(wal)).extracting(WalTestLog.Read::lsn).containsExactly(lsn);
        }
    }

    private void flipRandomBit(SimulatedStorageEnv env, WalTestLog.Appended victim) throws IOException {
        long at = victim.lsn() + random.nextInt(recordLength(victim));
        env.flipBit(WalTestLog.segmentOf(at, SEGMENT), at % SEGMENT, random.nextInt(8));
    }

    /** Creates a file with this content, durably. */
    private static void writeFile(SimulatedStorageEnv env, Path path, byte[] content) throws IOException {
        try (var out = env.openForWrite(path)) {
            out.write(0, java.nio.ByteBuffer.wrap(content));
            out.force();
        }
        env.syncDirectory(path.getParent());
    }

    /** A new env holding the same durable files as {@code source}. */
    static SimulatedStorageEnv copyOf(SimulatedStorageEnv source) throws IOException {
        SimulatedStorageEnv copy = new SimulatedStorageEnv();
        for (Path dir : new Path[] {WalTestLog.WAL_DIR, WalTestLog.DIR.resolve(Wal.LOST_DIR)}) {
            copy.createDirectories(dir);
            for (Path file : source.list(dir)) {
                try (var out = copy.openForWrite(file)) {
                    out.write(0, java.nio.ByteBuffer.wrap(source.readAllBytes(file)));
                    out.force();
                }
            }
            copy.syncDirectory(dir);
        }
        return copy;
    }
}
