package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageException;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Hostile bytes for the engine's decoders of disk data: a WAL write-batch payload and a manifest edit. Each
 * either decodes into bounded values or fails with {@link ErrorCode#CORRUPTION}; never another exception, an
 * unbounded allocation or a hang. {@code mvn verify} replays the seed corpus; {@code JAZZER_FUZZ=1} fuzzes.
 */
class EngineDecoderFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void hostileWriteBatchPayloadsDecodeOrReportCorruption(byte[] bytes) {
        try {
            int[] ops = {0};
            int count = WriteBatchFormat.decode(new UnsafeBuffer(bytes), 0, bytes.length, 4096, (i, kind, key, value) -> {
                assertThat(key.length).isLessThanOrEqualTo(Limits.MAX_KEY_BYTES);
                assertThat(value.length).isLessThanOrEqualTo(Limits.MAX_VALUE_BYTES);
                ops[0]++;
            });
            assertThat(count).isEqualTo(ops[0]).isLessThanOrEqualTo(bytes.length / 2);
        } catch (StorageException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(e.getMessage()).contains("write batch at WAL LSN 4096");
        }
    }

    @FuzzTest(maxDuration = "30s")
    void hostileManifestEditsDecodeOrReportCorruption(byte[] bytes) {
        try {
            VersionEdit edit = VersionEdit.decode(bytes, "MANIFEST-000001 edit 0", 7);
            assertThat(edit.added.size() + edit.removed.size()).isLessThanOrEqualTo(bytes.length);
            // A decoded edit re-encodes to a form that decodes to the same edit.
            VersionEdit again = VersionEdit.decode(edit.encode(), "re-encoded", 7);
            assertThat(again.added).hasSameSizeAs(edit.added);
            assertThat(again.removed).isEqualTo(edit.removed);
            assertThat(again.checkpointLsn).isEqualTo(edit.checkpointLsn);
        } catch (StorageException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(e.getMessage()).startsWith("MANIFEST-000001 edit 0");
        }
    }
}
