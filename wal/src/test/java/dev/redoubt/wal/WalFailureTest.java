package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The failure rules: a failed fsync or write poisons the log; limits are enforced with clear messages. */
class WalFailureTest {
    private static final WalOptions OPTIONS = WalOptions.defaults().segmentBytes(8192);
    private final Random random = new Random(Long.getLong("redoubt.seed", System.nanoTime()));

    @Test
    void failedFsyncRefusesEveryLaterAppendAndReopenKeepsWhatWasAcknowledged() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        List<WalTestLog.Appended> acknowledged;
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
            acknowledged = new ArrayList<>(WalTestLog.appendRandom(wal, random, 20, 200));
            env.failForceAfter(1);
            assertThatThrownBy(() -> wal.append(RecordType.WRITE_BATCH, new byte[] {1}))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.FAILED);
                        assertThat(e.getMessage()).contains("injected fsync failure", "reopen");
                    });
            env.clearFaults();
            // Never retry-and-continue: even with the disk healthy again, the log stays failed.
            assertThatThrownBy(() -> wal.append(RecordType.WRITE_BATCH, new byte[] {2}, Durability.ASYNC))
                    .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FAILED));
            assertThatThrownBy(() -> wal.appendAsync(RecordType.WRITE_BATCH, new byte[] {3}, Durability.SYNC))
                    .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FAILED));
            assertThat(wal.stats().failed()).isTrue();
        } catch (StorageException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.FAILED);
            throw e;
        }
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS)) {
            List<WalTestLog.Read> read = WalTestLog.readAll(wal);
            // The record whose fsync failed may or may not be on disk; everything acknowledged is.
            assertThat(read.size()).isBetween(acknowledged.size(), acknowledged.size() + 1);
            WalTestLog.assertSameRecords("acknowledged records", read.subList(0, acknowledged.size()), acknowledged);
        }
    }

    @Test
    void fullDiskFailsTheAppendWithNoSpaceAndAMessageThatSaysSo() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        WalOptions options = OPTIONS.preallocateInBackground(false);
        List<WalTestLog.Appended> acknowledged = new ArrayList<>();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, options)) {
            // The simulated disk counts every byte written (also into the preallocated segment): a few appends fit.
            env.failWritesAfterBytes(1000);
            StorageException failure = null;
            for (int i = 0; i < 200 && failure == null; i++) {
                byte[] payload = WalTestLog.randomPayload(random, 200);
                try {
                    acknowledged.add(new WalTestLog.Appended(wal.append(RecordType.WRITE_BATCH, payload), payload));
                } catch (StorageException e) {
                    failure = e;
                }
            }
            assertThat(failure).isNotNull();
            assertThat(failure.code()).isEqualTo(ErrorCode.NO_SPACE);
            assertThat(failure.getMessage()).contains("disk is full", "Free space, then reopen");
            // Refused from now on, still as a full disk: the fix is to free space, then reopen.
            assertThatThrownBy(() -> wal.append(RecordType.WRITE_BATCH, new byte[] {1}))
                    .isInstanceOfSatisfying(StorageException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.NO_SPACE));
            assertThat(acknowledged).isNotEmpty();
        }
        env.clearFaults();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, options)) {
            WalTestLog.assertSameRecords("acknowledged records", WalTestLog.readAll(wal), acknowledged);
        }
    }

    @Test
    void payloadOverTheLimitIsRejectedWithTheLimitInTheMessage() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS.maxRecordBytes(1000))) {
            assertThatThrownBy(() -> wal.append(RecordType.WRITE_BATCH, new byte[1001]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("1000 bytes")
                    .hasMessageContaining("maxRecordBytes");
            assertThatThrownBy(() -> wal.append(RecordType.PADDING, new byte[1]))
                    .isInstanceOf(IllegalArgumentException.class);
            // Nothing was written for the rejected appends.
            assertThat(wal.append(RecordType.WRITE_BATCH, new byte[1000])).isZero();
        }
    }

    @Test
    void optionsThatCannotWorkAreRejectedAtOpenWithTheFix() {
        assertThatThrownBy(() -> WalOptions.defaults().segmentBytes(8192).maxRecordBytes(9000).validate())
                .hasMessageContaining("raise segmentBytes or lower maxRecordBytes");
        assertThatThrownBy(() -> WalOptions.defaults().segmentBytes(100).validate())
                .hasMessageContaining("segmentBytes must be between");
        assertThatThrownBy(() -> WalOptions.defaults().ringBytes(100_000).validate())
                .hasMessageContaining("power of two");
    }

    @Test
    void appendAfterCloseFailsWithClosed() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS);
        wal.close();
        assertThatThrownBy(() -> wal.append(RecordType.WRITE_BATCH, new byte[1]))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CLOSED));
    }

    @Test
    void asyncAppendsAreFsyncedByTheFlusherWithinTheInterval() throws InterruptedException, ExecutionException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, OPTIONS.asyncFlushIntervalMillis(5))) {
            long lsn = wal.append(RecordType.WRITE_BATCH, new byte[10], Durability.ASYNC);
            // No caller asks for durability; the background flusher provides it.
            wal.appendAsync(RecordType.WRITE_BATCH, new byte[1], Durability.ASYNC).get();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (wal.durableLsn() <= lsn && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(wal.durableLsn()).isGreaterThan(lsn);
        }
    }
}
