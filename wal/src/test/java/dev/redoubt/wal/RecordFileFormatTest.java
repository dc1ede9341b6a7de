package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** Record files (the manifest): format 2 writes MANIFEST_EDIT records and still reads format 1's CHECKPOINT ones. */
class RecordFileFormatTest {
    private static final Path FILE = Path.of("/db/MANIFEST-000001");

    @Test
    void aFormatOneFileIsReadAndContinuedWithManifestEditRecords() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        env.createDirectories(FILE.getParent());
        // Two records as format 1 wrote them: type CHECKPOINT.
        long end = 0;
        try (StorageFile f = env.openForWrite(FILE)) {
            for (String edit : new String[] {"edit-1", "edit-2"}) {
                end += write(f, end, RecordType.CHECKPOINT, edit);
            }
            f.force();
        }
        RecordFile.Contents old = RecordFile.read(env, FILE);
        assertThat(old.records()).extracting(r -> new String(r, StandardCharsets.UTF_8)).containsExactly("edit-1", "edit-2");
        try (RecordFile f = RecordFile.openForAppend(env, FILE, old.validEnd())) {
            long at = f.append("edit-3".getBytes(StandardCharsets.UTF_8));
            ByteBuffer header = ByteBuffer.allocate(WalRecordDescriptor.HEADER_LENGTH);
            try (StorageFile raw = env.openForRead(FILE)) {
                raw.read(at, header);
            }
            assertThat(WalRecordDescriptor.typeCode(new UnsafeBuffer(header.flip()), 0))
                    .as("a new record's type").isEqualTo(RecordType.MANIFEST_EDIT.code());
        }
        assertThat(RecordFile.read(env, FILE).records()).extracting(r -> new String(r, StandardCharsets.UTF_8))
                .containsExactly("edit-1", "edit-2", "edit-3");
    }

    @Test
    void aWalRecordInARecordFileIsCorruption() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        env.createDirectories(FILE.getParent());
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, RecordType.WRITE_BATCH, "not an edit");
            f.force();
        }
        assertThatThrownBy(() -> RecordFile.read(env, FILE)).isInstanceOf(StorageException.class)
                .satisfies(e -> assertThat(((StorageException) e).code()).isEqualTo(ErrorCode.CORRUPTION))
                .hasMessageContaining("WRITE_BATCH record at offset 0");
    }

    /** Writes one record at {@code at} (LSN = offset, as a record file frames them); returns its length. */
    private static int write(StorageFile f, long at, RecordType type, String payload) throws Exception {
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bytes = ByteBuffer.allocateDirect(WalRecordDescriptor.HEADER_LENGTH + p.length)
                .order(WalRecordDescriptor.ORDER);
        UnsafeBuffer b = new UnsafeBuffer(bytes);
        WalRecordDescriptor.writeRecord(b, bytes.duplicate(), new CRC32C(), 0, type, 0, new UnsafeBuffer(p), 0,
                p.length, p.length, at, 0, at);
        f.write(at, bytes.clear());
        return WalRecordDescriptor.HEADER_LENGTH + p.length;
    }
}
