package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Hostile bytes in a segment: the reader and recovery end with a record, the end of the log or a reported
 * corruption; never another exception, an unbounded allocation or an endless loop. Under {@code mvn verify}
 * this replays the seed corpus in {@code src/test/resources/.../WalDecoderFuzzTestInputs}; with
 * {@code JAZZER_FUZZ=1} it fuzzes.
 */
class WalDecoderFuzzTest {
    private static final Path SEGMENT = SegmentFiles.segmentPath(WalTestLog.WAL_DIR, 0);

    @FuzzTest(maxDuration = "30s")
    void hostileSegmentBytesAreReadOrReportedNeverCrash(byte[] bytes) throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        env.createDirectories(WalTestLog.WAL_DIR);
        try (var out = env.openForWrite(SEGMENT)) {
            out.write(0, ByteBuffer.wrap(bytes));
            out.force();
        }
        env.syncDirectory(WalTestLog.WAL_DIR);
        long records = 0;
        try (WalReader reader = WalReader.open(env, WalTestLog.WAL_DIR, 0)) {
            while (reader.next()) {
                records++;
                assertThat(reader.payloadLength()).isBetween(0, WalRecordDescriptor.MAX_PAYLOAD_BYTES);
            }
            assertThat(reader.status()).isIn(WalReader.Status.END, WalReader.Status.CORRUPT);
        }
        assertThat(records).isLessThanOrEqualTo(bytes.length / WalRecordDescriptor.HEADER_LENGTH);
        for (RecoveryMode mode : RecoveryMode.values()) {
            try {
                RecoveryReport report = Wal.inspect(env, WalTestLog.DIR, mode);
                assertThat(report.endLsn()).isBetween(0L, (long) bytes.length);
            } catch (StorageException expected) {
                // A refusal (WalCorruptionException) is a valid outcome for hostile bytes.
            }
        }
    }
}
