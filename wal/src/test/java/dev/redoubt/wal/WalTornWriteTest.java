package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Power cuts that tear the last unsynced write at a sector boundary ({@link SimulatedStorageEnv#cutPowerTearingWrites}):
 * the log still opens in the default mode, keeps every SYNC-acknowledged record, and what survives is an LSN prefix
 * of what was appended.
 */
class WalTornWriteTest {
    private static final int SEEDS = Integer.getInteger("redoubt.torn.seeds", 500);
    private static final long BASE = Long.getLong("redoubt.seed", System.nanoTime());

    @Test
    void syncRecordsSurviveAndSurvivorsAreAPrefixAfterATornWrite() {
        for (int i = 0; i < SEEDS; i++) {
            long seed = BASE + i;
            try {
                runSeed(seed);
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + " failed; replay with -Dredoubt.seed=" + seed
                        + " -Dredoubt.torn.seeds=1", t);
            }
        }
    }

    private static void runSeed(long seed) {
        Random random = new Random(seed);
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        WalOptions options = WalOptions.defaults().segmentBytes(8192).asyncFlushIntervalMillis(60_000)
                .compressAboveBytes(random.nextBoolean() ? WalOptions.COMPRESSION_OFF : 64);
        List<WalTestLog.Appended> appended = new ArrayList<>();
        int lastSync = -1;
        Wal wal = Wal.open(env, WalTestLog.DIR, options);
        try {
            int count = 1 + random.nextInt(80);
            for (int n = 0; n < count; n++) {
                byte[] payload = WalTestLog.randomPayload(random, 1500);
                int mode = random.nextInt(3);
                long lsn;
                if (mode == 0) {
                    lsn = wal.append(RecordType.WRITE_BATCH, payload, Durability.SYNC);
                    lastSync = appended.size();
                } else if (mode == 1) {
                    lsn = wal.append(RecordType.WRITE_BATCH, payload, Durability.ASYNC);
                } else {
                    lsn = wal.appendDeferred(RecordType.WRITE_BATCH, new UnsafeBuffer(payload), 0, payload.length);
                    wal.awaitWritten(lsn);
                }
                appended.add(new WalTestLog.Appended(lsn, payload));
            }
            env.cutPowerTearingWrites(random);
        } finally {
            try {
                wal.close();
            } catch (RuntimeException deadHandles) {
                // the power is off
            }
        }
        try (Wal reopened = Wal.open(env, WalTestLog.DIR, options)) {
            List<WalTestLog.Read> read = WalTestLog.readAll(reopened);
            assertThat(read.size()).as("every SYNC-acknowledged record survives").isGreaterThan(lastSync);
            assertThat(read.size()).isLessThanOrEqualTo(appended.size());
            WalTestLog.assertSameRecords("seed " + seed, read, appended.subList(0, read.size()));
            // The log continues right after the survivors, and what was dropped was never proven durable.
            assertThat(reopened.recoveryReport().acknowledgedLoss()).isFalse();
        }
    }
}
