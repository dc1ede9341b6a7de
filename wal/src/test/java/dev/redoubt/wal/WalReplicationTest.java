package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A backup's log fed with a primary's raw records ({@link Wal#newRawReader}, {@link Wal#appendReplicated}): the
 * segments come out byte-identical, the applier sees every record, and a chunk that does not continue the log
 * (gap, damage, older epoch, other segment size) is refused without changing anything.
 */
class WalReplicationTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());
    private static final Path PRIMARY = Path.of("/primary");
    private static final Path BACKUP = Path.of("/backup");

    private final SimulatedStorageEnv env = new SimulatedStorageEnv();

    @Test
    void shippedRecordsMakeByteIdenticalSegmentsAndReachTheApplierInOrder() throws Exception {
        Random random = new Random(SEED);
        WalOptions options = WalOptions.defaults().segmentBytes(8192).compressAboveBytes(256);
        List<Long> applied = new ArrayList<>();
        try (Wal primary = Wal.open(env, PRIMARY, options);
             Wal backup = Wal.open(env, BACKUP, options, (type, lsn, end, payload, offset, length) -> applied.add(lsn))) {
            List<WalTestLog.Appended> appended = new ArrayList<>(WalTestLog.appendRandom(primary, random, 300, 3000));
            ship(primary, backup, random);
            primary.changeEpoch(4);
            appended.addAll(WalTestLog.appendRandom(primary, random, 200, 3000));
            ship(primary, backup, random);

            assertThat(backup.writtenLsn()).as("seed %d", SEED).isEqualTo(primary.writtenLsn());
            assertThat(backup.epoch()).as("seed %d", SEED).isEqualTo(4);
            for (Path segment : WalSegments.list(env, PRIMARY.resolve(Wal.WAL_DIR))) {
                Path twin = BACKUP.resolve(Wal.WAL_DIR).resolve(segment.getFileName());
                assertThat(env.readAllBytes(twin)).as("seed %d: %s", SEED, segment.getFileName())
                        .isEqualTo(env.readAllBytes(segment));
            }
            List<Long> expected = WalTestLog.readAll(primary).stream().map(WalTestLog.Read::lsn).toList();
            assertThat(applied).as("seed %d", SEED).isEqualTo(expected);
            assertThat(WalTestLog.readAll(backup)).as("seed %d", SEED).hasSameSizeAs(expected);
        }
    }

    @Test
    void aReaderKeptOpenOnALiveLogSeesRecordsAppendedAfterItReachedTheEnd() {
        Random random = new Random(SEED);
        WalOptions options = WalOptions.defaults().segmentBytes(8192);
        try (Wal wal = Wal.open(env, PRIMARY, options); WalReader reader = wal.newRawReader(0)) {
            List<Long> seen = new ArrayList<>();
            for (int round = 0; round < 40; round++) {
                WalTestLog.appendRandom(wal, random, 1 + random.nextInt(5), 1500);
                while (reader.next()) {
                    if (reader.type() != RecordType.PADDING) {
                        seen.add(reader.lsn());
                    }
                }
                assertThat(reader.status()).as("seed %d, round %d: %s", SEED, round, reader.problem())
                        .isEqualTo(WalReader.Status.END);
                assertThat(reader.position()).as("seed %d, round %d", SEED, round).isEqualTo(wal.writtenLsn());
            }
            assertThat(seen).as("seed %d", SEED).isEqualTo(WalTestLog.readAll(wal).stream().map(WalTestLog.Read::lsn).toList());
        }
    }

    @Test
    void aPromotedBackupAppendsAfterWhatItReceived() {
        Random random = new Random(SEED);
        WalOptions options = WalOptions.defaults().segmentBytes(8192);
        try (Wal primary = Wal.open(env, PRIMARY, options);
             Wal backup = Wal.open(env, BACKUP, options)) {
            List<WalTestLog.Appended> appended = new ArrayList<>(WalTestLog.appendRandom(primary, random, 100, 2000));
            ship(primary, backup, random);
            long fork = backup.changeEpoch(backup.epoch() + 1);
            assertThat(fork).as("seed %d", SEED).isEqualTo(forkAfter(primary.writtenLsn(), 8192));
            appended.addAll(WalTestLog.appendRandom(backup, random, 50, 2000));
        }
        assertReopensCleanWithBatches(options, 150);
    }

    @Test
    void aPromotedBackupWhoseSegmentHasLessThanAHeaderLeftForksAtTheNextSegment() {
        // Found by CI: with fewer than 40 bytes left in the segment no padding is written, so the epoch
        // record (the fork) starts at the next segment, not at the end of what the backup received.
        WalOptions options = WalOptions.defaults().segmentBytes(8192);
        int end = 8192 - 10;
        try (Wal primary = Wal.open(env, PRIMARY, options);
             Wal backup = Wal.open(env, BACKUP, options)) {
            primary.append(RecordType.WRITE_BATCH, new byte[end - 2 * WalRecordDescriptor.HEADER_LENGTH - 100]);
            primary.append(RecordType.WRITE_BATCH, new byte[100]);
            assertThat(primary.writtenLsn()).isEqualTo(end);
            ship(primary, backup, new Random(SEED));
            assertThat(backup.writtenLsn()).isEqualTo(end);

            long fork = backup.changeEpoch(backup.epoch() + 1);

            assertThat(fork).isEqualTo(8192);
            assertThat(forkAfter(end, 8192)).isEqualTo(fork);
            backup.append(RecordType.WRITE_BATCH, new byte[10]);
        }
        assertReopensCleanWithBatches(options, 3);
    }

    /** Where a record appended at {@code end} starts: the next segment if fewer than a header's bytes are left. */
    private static long forkAfter(long end, int segmentBytes) {
        long left = segmentBytes - end % segmentBytes;
        return left < WalRecordDescriptor.HEADER_LENGTH ? end + left : end;
    }

    private void assertReopensCleanWithBatches(WalOptions options, int batches) {
        try (Wal reopened = Wal.open(env, BACKUP, options)) {
            assertThat(reopened.recoveryReport().clean()).as("seed %d: %s", SEED, reopened.recoveryReport()).isTrue();
            List<WalTestLog.Read> read = WalTestLog.readAll(reopened).stream()
                    .filter(r -> r.type() == RecordType.WRITE_BATCH).toList();
            assertThat(read).as("seed %d", SEED).hasSize(batches);
        }
    }

    @Test
    void aChunkThatDoesNotStartAtTheEndIsRefusedAndChangesNothing() {
        WalOptions options = WalOptions.defaults().segmentBytes(8192);
        try (Wal primary = Wal.open(env, PRIMARY, options);
             Wal backup = Wal.open(env, BACKUP, options)) {
            WalTestLog.appendRandom(primary, new Random(SEED), 20, 500);
            List<ByteBuffer> records = rawRecords(primary, 0);
            backup.appendReplicated(records.get(0));
            long end = backup.writtenLsn();
            assertThatThrownBy(() -> backup.appendReplicated(records.get(2)))
                    .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION))
                    .hasMessageContaining("where LSN " + end + " is next");
            assertThatThrownBy(() -> backup.appendReplicated(records.get(0))).hasMessageContaining("is next");
            assertThat(backup.writtenLsn()).isEqualTo(end);
            backup.appendReplicated(records.get(1));
            assertThat(backup.writtenLsn()).isEqualTo(records.get(0).remaining() + records.get(1).remaining());
        }
    }

    @Test
    void aDamagedRecordIsRefusedAndTheLogStaysUsable() {
        WalOptions options = WalOptions.defaults().segmentBytes(8192);
        Random random = new Random(SEED);
        try (Wal primary = Wal.open(env, PRIMARY, options);
             Wal backup = Wal.open(env, BACKUP, options)) {
            WalTestLog.appendRandom(primary, random, 20, 500);
            List<ByteBuffer> records = rawRecords(primary, 0);
            for (int trial = 0; trial < 200; trial++) {
                ByteBuffer damaged = copy(records.get(0));
                int at = random.nextInt(damaged.remaining());
                damaged.put(at, (byte) (damaged.get(at) ^ (1 << random.nextInt(8))));
                assertThatThrownBy(() -> backup.appendReplicated(damaged)).as("seed %d, byte %d", SEED, at)
                        .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION));
                assertThat(backup.writtenLsn()).isZero();
            }
            backup.appendReplicated(records.get(0));
            assertThat(backup.writtenLsn()).isEqualTo(records.get(0).remaining());
        }
    }

    @Test
    void recordsFromAnOlderEpochAreRefused() {
        WalOptions options = WalOptions.defaults().segmentBytes(8192);
        try (Wal primary = Wal.open(env, PRIMARY, options);
             Wal backup = Wal.open(env, BACKUP, options)) {
            primary.append(RecordType.WRITE_BATCH, new byte[10]);
            backup.changeEpoch(3);
            // The backup now holds an epoch-3 record at LSN 0, so even a record at the right LSN is stale.
            ByteBuffer stale = rawRecords(primary, 0).get(0);
            assertThatThrownBy(() -> backup.appendReplicated(stale)).hasMessageContaining("LSN 0");
        }
        try (Wal primary = Wal.open(env, Path.of("/p2"), options);
             Wal backup = Wal.open(env, Path.of("/b2"), options)) {
            primary.changeEpoch(5);
            backup.appendReplicated(rawRecords(primary, 0).get(0));
            assertThat(backup.epoch()).isEqualTo(5);
            primary.append(RecordType.WRITE_BATCH, new byte[10]);
            ByteBuffer next = rawRecords(primary, backup.writtenLsn()).get(0);
            // Forge an older epoch on an otherwise valid record: re-stamp and re-checksum it.
            next.order(WalRecordDescriptor.ORDER).putLong(next.position() + WalRecordDescriptor.EPOCH_OFFSET, 2);
            rechecksum(next);
            assertThatThrownBy(() -> backup.appendReplicated(next)).hasMessageContaining("older than epoch 5");
        }
    }

    @Test
    void aRecordWhoseCompressedPayloadDoesNotInflateIsRefusedBeforeItIsWritten() {
        // Found by fuzzing: a valid checksum over an LZ4 flag and a payload that is not LZ4 was written to the
        // log (and then failed the applier) instead of being refused.
        ByteBuffer forged = ByteBuffer.allocateDirect(WalRecordDescriptor.HEADER_LENGTH + 1).order(WalRecordDescriptor.ORDER);
        org.agrona.concurrent.UnsafeBuffer b = new org.agrona.concurrent.UnsafeBuffer(forged);
        WalRecordDescriptor.writeHeader(b, 0, RecordType.WRITE_BATCH, WalRecordDescriptor.FLAG_LZ4, 1, 0, 0, 0, 0);
        b.putByte(WalRecordDescriptor.HEADER_LENGTH, (byte) 'x');
        rechecksum(forged);
        try (Wal backup = Wal.open(env, BACKUP, WalOptions.defaults().segmentBytes(8192))) {
            assertThatThrownBy(() -> backup.appendReplicated(forged))
                    .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION))
                    .hasMessageContaining("LZ4");
            assertThat(backup.writtenLsn()).isZero();
            assertThat(backup.append(RecordType.WRITE_BATCH, new byte[3])).isZero();
        }
    }

    @Test
    void aBackupWithAnotherSegmentSizeRefusesThePrimarysPadding() {
        Random random = new Random(SEED);
        try (Wal primary = Wal.open(env, PRIMARY, WalOptions.defaults().segmentBytes(8192));
             Wal backup = Wal.open(env, BACKUP, WalOptions.defaults().segmentBytes(16384))) {
            WalTestLog.appendRandom(primary, random, 60, 1000);
            assertThatThrownBy(() -> {
                for (ByteBuffer record : rawRecords(primary, 0)) {
                    backup.appendReplicated(record);
                }
            }).hasMessageContaining("same segment size");
        }
    }

    /** Ships everything the backup lacks in chunks of 1 to 8 records. */
    private static void ship(Wal primary, Wal backup, Random random) {
        List<ByteBuffer> records = rawRecords(primary, backup.writtenLsn());
        for (int i = 0; i < records.size(); ) {
            int n = Math.min(records.size() - i, 1 + random.nextInt(8));
            int bytes = 0;
            for (int j = i; j < i + n; j++) {
                bytes += records.get(j).remaining();
            }
            ByteBuffer chunk = ByteBuffer.allocateDirect(bytes);
            for (int j = i; j < i + n; j++) {
                chunk.put(records.get(j).duplicate());
            }
            chunk.flip();
            backup.appendReplicated(chunk);
            i += n;
        }
    }

    /** Every record from {@code from} as the raw reader returns it, one direct buffer each. */
    private static List<ByteBuffer> rawRecords(Wal wal, long from) {
        List<ByteBuffer> out = new ArrayList<>();
        try (WalReader reader = wal.newRawReader(from)) {
            while (reader.next()) {
                ByteBuffer b = ByteBuffer.allocateDirect(reader.recordLength());
                reader.recordBuffer().getBytes(reader.recordIndex(), b, reader.recordLength());
                b.flip();
                out.add(b);
            }
            assertThat(reader.status()).isEqualTo(WalReader.Status.END);
        }
        return out;
    }

    private static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocateDirect(b.remaining());
        c.put(b.duplicate()).flip();
        return c;
    }

    private static void rechecksum(ByteBuffer record) {
        org.agrona.concurrent.UnsafeBuffer b = new org.agrona.concurrent.UnsafeBuffer(record);
        int at = record.position();
        int covered = WalRecordDescriptor.checksummedLength(WalRecordDescriptor.typeCode(b, at),
                WalRecordDescriptor.storedLength(b, at));
        WalRecordDescriptor.putChecksum(b, at, WalRecordDescriptor.computeChecksum(new java.util.zip.CRC32C(),
                record.duplicate(), at, covered));
    }
}
