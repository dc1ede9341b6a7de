package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalRoundTripTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "compressAbove={0}")
    @ValueSource(ints = {WalOptions.COMPRESSION_OFF, 0, 256})
    void randomRecordsRoundTripAcrossManySegmentBoundaries(int compressAbove) {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Random random = new Random(SEED);
        WalOptions options = WalOptions.defaults().segmentBytes(8192).compressAboveBytes(compressAbove);
        List<WalTestLog.Appended> appended = new ArrayList<>();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, options)) {
            appended.addAll(WalTestLog.appendRandom(wal, random, 600, 3000));
            WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), appended);
        }
        try (Wal wal = Wal.open(env, WalTestLog.DIR, options)) {
            assertThat(wal.recoveryReport().clean()).as("seed %d: %s", SEED, wal.recoveryReport()).isTrue();
            assertThat(wal.recoveryReport().segments()).as("seed %d", SEED).isGreaterThan(50);
            appended.addAll(WalTestLog.appendRandom(wal, random, 100, 3000));
            WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), appended);
        }
    }

    @Test
    void recordsLargerThanTheRingGoThroughTheDirectPathInOrder() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Random random = new Random(SEED);
        // A 64 KiB ring passes records up to 8 KiB; the rest take the large-record path.
        WalOptions options = WalOptions.defaults().segmentBytes(64 * 1024).ringBytes(64 * 1024);
        try (Wal wal = Wal.open(env, WalTestLog.DIR, options)) {
            List<WalTestLog.Appended> appended = WalTestLog.appendRandom(wal, random, 200, 30_000);
            WalTestLog.assertSameRecords("seed " + SEED, WalTestLog.readAll(wal), appended);
        }
    }

    @Test
    void realFilesRoundTripWithEveryAppendForm() throws Exception {
        WalOptions options = WalOptions.defaults().segmentBytes(64 * 1024);
        List<WalTestLog.Appended> appended = new ArrayList<>();
        try (Wal wal = Wal.open(tmp, options)) {
            for (int i = 0; i < 300; i++) {
                byte[] payload = ("record-" + i).getBytes();
                long lsn = switch (i % 4) {
                    case 0 -> wal.append(RecordType.WRITE_BATCH, payload, Durability.SYNC);
                    case 1 -> wal.append(RecordType.WRITE_BATCH, payload, Durability.ASYNC);
                    case 2 -> wal.appendAsync(RecordType.WRITE_BATCH, payload, Durability.SYNC).get();
                    default -> {
                        long l = wal.appendDeferred(RecordType.WRITE_BATCH,
                                new org.agrona.concurrent.UnsafeBuffer(payload), 0, payload.length);
                        wal.awaitDurable(l);
                        yield l;
                    }
                };
                appended.add(new WalTestLog.Appended(lsn, payload));
            }
        }
        try (Wal wal = Wal.open(tmp, options); WalReader reader = wal.newReader(0)) {
            assertThat(wal.recoveryReport().clean()).isTrue();
            for (WalTestLog.Appended a : appended) {
                assertThat(reader.next()).isTrue();
                assertThat(reader.lsn()).isEqualTo(a.lsn());
                assertThat(reader.payloadBytes()).isEqualTo(a.payload());
            }
            assertThat(reader.next()).isFalse();
            assertThat(reader.status()).isEqualTo(WalReader.Status.END);
        }
    }

    @Test
    void readerStartsAtAnyRecordLsn() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Random random = new Random(SEED);
        try (Wal wal = Wal.open(env, WalTestLog.DIR, WalOptions.defaults().segmentBytes(4096))) {
            List<WalTestLog.Appended> appended = WalTestLog.appendRandom(wal, random, 120, 500);
            for (int start = 0; start < appended.size(); start += 7) {
                try (WalReader reader = wal.newReader(appended.get(start).lsn())) {
                    for (int i = start; i < appended.size(); i++) {
                        assertThat(reader.next()).as("seed %d start %d record %d", SEED, start, i).isTrue();
                        assertThat(reader.lsn()).isEqualTo(appended.get(i).lsn());
                        assertThat(reader.payloadBytes()).isEqualTo(appended.get(i).payload());
                    }
                    assertThat(reader.next()).isFalse();
                }
            }
        }
    }

    @Test
    void epochChangeIsLoggedAndStampedOnLaterRecords() {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        try (Wal wal = Wal.open(env, WalTestLog.DIR, WalOptions.defaults().segmentBytes(4096))) {
            wal.append(RecordType.WRITE_BATCH, new byte[] {1});
            long fork = wal.changeEpoch(7);
            wal.append(RecordType.WRITE_BATCH, new byte[] {2});
            List<WalTestLog.Read> read = WalTestLog.readAll(wal);
            assertThat(read).extracting(WalTestLog.Read::epoch).containsExactly(0L, 7L, 7L);
            assertThat(read.get(1).type()).isEqualTo(RecordType.EPOCH_CHANGE);
            assertThat(read.get(1).lsn()).isEqualTo(fork);
        }
        try (Wal wal = Wal.open(env, WalTestLog.DIR, WalOptions.defaults().segmentBytes(4096))) {
            assertThat(wal.epoch()).isEqualTo(7);
        }
    }
}
