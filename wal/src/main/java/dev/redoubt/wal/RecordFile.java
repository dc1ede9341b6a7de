package dev.redoubt.wal;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A single append-only file of checksummed records in the WAL's framing ({@link WalRecordDescriptor}, LSN = file
 * offset): the engine's manifest uses it, so its edits get the same checksums, bounds and torn-tail handling as
 * the log. Every append is fsynced before it returns.
 *
 * <p>Format 2 (this one) writes each record as {@link RecordType#MANIFEST_EDIT}; format 1 wrote
 * {@link RecordType#CHECKPOINT}, the WAL's own marker type, and such files (or a file mixing both, continued by
 * this version) are still read. Any other type in a record file is corruption.
 *
 * <p>This class is not thread-safe; the owner serializes appends.
 */
public final class RecordFile implements AutoCloseable {
    private final StorageFile file;
    private final Path path;
    private final CRC32C crc = new CRC32C();
    private long end;

    private RecordFile(StorageFile file, Path path, long end) {
        this.file = file;
        this.path = path;
        this.end = end;
    }

    /** What {@link #read} found. */
    public record Contents(List<byte[]> records, long validEnd, long tornBytes) {
    }

    /** Creates (or empties) the file; the caller fsyncs the directory to make its name durable. */
    public static RecordFile create(StorageEnv env, Path path) throws IOException {
        StorageFile f = env.openForWrite(path);
        f.truncate(0);
        f.force();
        return new RecordFile(f, path, 0);
    }

    /** Continues a file after {@link #read}: drops a torn tail past {@code validEnd} first. */
    public static RecordFile openForAppend(StorageEnv env, Path path, long validEnd) throws IOException {
        StorageFile f = env.openForWrite(path);
        if (f.size() != validEnd) {
            f.truncate(validEnd);
            f.force();
        }
        return new RecordFile(f, path, validEnd);
    }

    /**
     * Reads every record. A damaged or partial last record (an append cut by a crash, never acknowledged) ends
     * the file; damage followed by a valid record is corruption and throws {@link ErrorCode#CORRUPTION} naming
     * the file and offset.
     */
    public static Contents read(StorageEnv env, Path path) throws IOException {
        List<byte[]> records = new ArrayList<>();
        try (SegmentReader reader = new SegmentReader(env, path, 0)) {
            long at = 0;
            while (true) {
                SegmentReader.Check check = reader.check(at);
                if (check == SegmentReader.Check.VALID) {
                    byte typeCode = WalRecordDescriptor.typeCode(reader.buffer(), reader.recordIndex());
                    if (typeCode != RecordType.MANIFEST_EDIT.code() && typeCode != RecordType.CHECKPOINT.code()) {
                        throw new StorageException(ErrorCode.CORRUPTION, path + ": a " + RecordType.fromCode(typeCode)
                                + " record at offset " + at + " (a record file holds only MANIFEST_EDIT records,"
                                + " or CHECKPOINT ones written by format 1)");
                    }
                    byte[] payload = new byte[reader.storedLength()];
                    reader.buffer().getBytes(reader.recordIndex() + WalRecordDescriptor.HEADER_LENGTH, payload);
                    if ((WalRecordDescriptor.flags(reader.buffer(), reader.recordIndex()) & WalRecordDescriptor.FLAG_LZ4) != 0) {
                        throw new StorageException(ErrorCode.CORRUPTION, path + ": compressed record at offset " + at
                                + " (record files are never compressed)");
                    }
                    records.add(payload);
                    at += WalRecordDescriptor.HEADER_LENGTH + payload.length;
                    continue;
                }
                // Zeros are damage too when a valid record follows: a record file is never preallocated, so only
                // an append cut short can leave zeros, and only at the end.
                if (check != SegmentReader.Check.SEGMENT_END) {
                    // Read before findValid(), which overwrites it.
                    String problem = check == SegmentReader.Check.ZERO ? "zero-filled header" : reader.problem();
                    long next = reader.findValid(at + 1, reader.size);
                    if (next >= 0) {
                        throw new StorageException(ErrorCode.CORRUPTION, path + ": damaged record at offset " + at
                                + " (" + problem + ") with a valid record after it at offset " + next);
                    }
                }
                return new Contents(records, at, reader.size - at);
            }
        }
    }

    /** Appends one record and fsyncs it; returns its offset. */
    public long append(byte[] payload) throws IOException {
        int length = WalRecordDescriptor.HEADER_LENGTH + payload.length;
        ByteBuffer bytes = ByteBuffer.allocateDirect(length).order(WalRecordDescriptor.ORDER);
        UnsafeBuffer b = new UnsafeBuffer(bytes);
        WalRecordDescriptor.writeRecord(b, bytes.duplicate(), crc, 0, RecordType.MANIFEST_EDIT, 0,
                new UnsafeBuffer(payload), 0, payload.length, payload.length, end, 0, end);
        bytes.clear();
        long at = end;
        file.write(at, bytes);
        file.force();
        end += length;
        return at;
    }

    public Path path() {
        return path;
    }

    public long size() {
        return end;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
