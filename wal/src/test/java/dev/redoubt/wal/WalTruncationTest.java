package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WalTruncationTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final WalOptions OPTIONS = WalOptions.defaults().segmentBytes(4096);
    private final Random random = new Random(SEED);

    @Test
    void truncateBeforeRemovesOnlyWholeSegmentsBelowTheLsn() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
            List<WalTestLog.Appended> appended = WalTestLog.appendRandom(wal, random, 100, 300);
            WalTestLog.Appended keepFrom = appended.get(60);
            int segmentsBefore = env.list(WalTestLog.WAL_DIR).size();
            int deleted = wal.truncateBefore(keepFrom.lsn());
            assertThat(deleted).isEqualTo((int) (keepFrom.lsn() / 4096));
            assertThat(env.list(WalTestLog.WAL_DIR)).hasSize(segmentsBefore - deleted);
            assertThat(wal.startLsn()).isLessThanOrEqualTo(keepFrom.lsn());
            try (WalReader reader = wal.newReader(keepFrom.lsn())) {
                assertThat(reader.next()).isTrue();
                assertThat(reader.payloadBytes()).isEqualTo(keepFrom.payload());
            }
            assertThatThrownBy(() -> wal.newReader(0)).isInstanceOf(StorageException.class)
                    .hasMessageContaining("no longer in the WAL");
        }
        env.cutPower();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
            assertThat(wal.recoveryReport().clean()).isTrue();
        }
    }

    @Test
    void truncateBeforeNeverDeletesTheActiveSegment() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
            WalTestLog.appendRandom(wal, random, 50, 300);
            wal.truncateBefore(Long.MAX_VALUE);
            long lsn = wal.append(RecordType.WRITE_BATCH, new byte[] {5});
            assertThat(WalTestLog.readAll(wal)).extracting(WalTestLog.Read::lsn).contains(lsn);
        }
    }

    @Test
    void truncateFromDiscardsTheTailAndTheLogContinuesThere() {
        for (int trial = 0; trial < 30; trial++) {
            SimulatedStorageEnv env = new SimulatedStorageEnv();
            String context = "seed " + SEED + " trial " + trial;
            List<WalTestLog.Appended> kept;
            try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
                List<WalTestLog.Appended> appended = WalTestLog.appendRandom(wal, random, 60, 300);
                int cut = random.nextInt(appended.size());
                long end = wal.writtenLsn();
                long discarded = wal.truncateFrom(appended.get(cut).lsn());
                assertThat(discarded).as(context).isEqualTo(end - appended.get(cut).lsn());
                kept = new ArrayList<>(appended.subList(0, cut));
                WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), kept);
                // New records of other lengths: the old tail's bytes must never resurface.
                kept.addAll(WalTestLog.appendRandom(wal, random, 5, 300));
                WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), kept);
            }
            env.cutPower();
            try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
                assertThat(wal.recoveryReport().clean()).as(context + ": " + wal.recoveryReport()).isTrue();
                WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), kept);
            }
        }
    }

    @Test
    void truncateFromRejectsAnLsnInsideARecord() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
            List<WalTestLog.Appended> appended = WalTestLog.appendRandom(wal, random, 5, 300);
            assertThatThrownBy(() -> wal.truncateFrom(appended.get(2).lsn() + 3))
                    .isInstanceOf(StorageException.class).hasMessageContaining("not the start of a record");
            assertThatThrownBy(() -> wal.truncateFrom(wal.writtenLsn() + 100))
                    .isInstanceOf(StorageException.class).hasMessageContaining("the log holds");
            WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), appended);
        }
    }
}
