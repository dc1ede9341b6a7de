package dev.redoubt.wal;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reads and classifies records of one segment file through a window buffer. Every length comes from
 * disk and is bounded before anything is allocated: a stored length must fit in the rest of the segment,
 * which itself is at most {@link WalOptions#MAX_SEGMENT_BYTES}.
 *
 * <p>This class is not thread-safe.
 */
final class SegmentReader implements AutoCloseable {
    static final int DEFAULT_WINDOW_BYTES = 1024 * 1024;

    /** What the bytes at a position are. */
    enum Check {
        /** A live record: checksum, bounds, type and LSN all hold. */
        VALID,
        /** Fewer than a header's bytes remain in the segment: the segment is used up. */
        SEGMENT_END,
        /** An all-zero header: space never written (preallocated). */
        ZERO,
        /** A record with a valid checksum but another position's LSN: bytes of an older log. */
        STALE,
        /** Anything else: a torn write or corruption. {@link #problem()} says what is wrong. */
        DAMAGED
    }

    final Path path;
    final long base;
    final long size;
    private final StorageFile file;
    private final java.util.function.LongSupplier limitLsn;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer window;
    private ByteBuffer windowView;
    private UnsafeBuffer buffer;
    private long windowStart;
    private int windowLength;

    private String problem;
    private int storedLength;
    private int recordIndex;

    SegmentReader(StorageEnv env, Path path, long base) throws IOException {
        this(env, path, base, () -> Long.MAX_VALUE);
    }

    /**
     * A reader whose window never holds bytes at or past {@code limitLsn} (a live log's written end): bytes the
     * writer has not written yet are never cached, so a reader kept open sees them once they are written.
     */
    SegmentReader(StorageEnv env, Path path, long base, java.util.function.LongSupplier limitLsn) throws IOException {
        this.limitLsn = limitLsn;
        this.path = path;
        this.base = base;
        this.file = env.openForRead(path);
        this.size = Math.min(file.size(), WalOptions.MAX_SEGMENT_BYTES);
        allocate((int) Math.max(WalRecordDescriptor.HEADER_LENGTH, Math.min(DEFAULT_WINDOW_BYTES, size)));
    }

    long end() {
        return base + size;
    }

    private void allocate(int capacity) {
        if (window != null) {
            BufferUtil.free(window);
        }
        window = ByteBuffer.allocateDirect(capacity).order(WalRecordDescriptor.ORDER);
        windowView = window.duplicate();
        buffer = new UnsafeBuffer(window);
        windowLength = 0;
        windowStart = 0;
    }

    /**
     * Makes bytes {@code [offset, offset + length)} of the file readable in {@link #buffer()} and returns the
     * index of {@code offset} in it. The caller has checked that the range lies inside the segment.
     */
    int ensure(long offset, int length) throws IOException {
        if (offset >= windowStart && offset + length <= windowStart + windowLength) {
            return (int) (offset - windowStart);
        }
        if (length > window.capacity()) {
            allocate(length);
        }
        long limit = limitLsn.getAsLong() - base;
        int toRead = (int) Math.min(window.capacity(), Math.max(offset + length, Math.min(size, limit)) - offset);
        window.clear();
        window.limit(toRead);
        int got = 0;
        while (got < toRead) {
            int n = file.read(offset + got, window);
            if (n < 0) {
                break;
            }
            got += n;
        }
        // A file shorter than its recorded size reads as zeros past its end.
        for (int i = got; i < toRead; i++) {
            window.put(i, (byte) 0);
        }
        windowStart = offset;
        windowLength = toRead;
        return 0;
    }

    UnsafeBuffer buffer() {
        return buffer;
    }

    /** After {@link Check#VALID}: the index of the record's first byte in {@link #buffer()}. */
    int recordIndex() {
        return recordIndex;
    }

    int storedLength() {
        return storedLength;
    }

    String problem() {
        return problem;
    }

    /** Classifies the bytes at {@code offset}, expecting a record whose LSN is {@code base + offset}. */
    Check check(long offset) throws IOException {
        problem = null;
        long remaining = size - offset;
        if (remaining < WalRecordDescriptor.HEADER_LENGTH) {
            return Check.SEGMENT_END;
        }
        int at = ensure(offset, WalRecordDescriptor.HEADER_LENGTH);
        if (WalRecordDescriptor.isZeroHeader(buffer, at)) {
            return Check.ZERO;
        }
        int stored = WalRecordDescriptor.storedLength(buffer, at);
        if (stored < 0 || stored > remaining - WalRecordDescriptor.HEADER_LENGTH) {
            return damaged("stored length " + stored + " does not fit in the " + remaining
                    + " bytes left in the segment");
        }
        byte typeCode = WalRecordDescriptor.typeCode(buffer, at);
        RecordType type = RecordType.fromCode(typeCode);
        if (type == null) {
            return damaged("unknown record type " + typeCode);
        }
        int covered = WalRecordDescriptor.checksummedLength(typeCode, stored);
        at = ensure(offset, WalRecordDescriptor.CHECKSUMMED_OFFSET + covered);
        String mismatch = WalRecordDescriptor.checksumMismatch(buffer, windowView, crc, at, typeCode, stored);
        if (mismatch != null) {
            return damaged(mismatch);
        }
        long lsn = WalRecordDescriptor.lsn(buffer, at);
        if (lsn != base + offset) {
            problem = "record of LSN " + lsn + " found at LSN " + (base + offset);
            return Check.STALE;
        }
        String invalid = WalRecordDescriptor.invalidFields(buffer, at, type, stored, lsn);
        if (invalid != null) {
            return damaged(invalid);
        }
        recordIndex = at;
        storedLength = stored;
        return Check.VALID;
    }

    private Check damaged(String why) {
        problem = why;
        return Check.DAMAGED;
    }

    /**
     * Offset of the first {@link Check#VALID} record in {@code [from, limit)}, or -1 if there is none. Used
     * to resynchronize after damage: records are found by the LSN that names their own position.
     */
    long findValid(long from, long limit) throws IOException {
        for (long q = from; q < limit && size - q >= WalRecordDescriptor.HEADER_LENGTH; q++) {
            int at = ensure(q, WalRecordDescriptor.HEADER_LENGTH);
            // Cheap filter first: a live record names its own position.
            if (WalRecordDescriptor.lsn(buffer, at) == base + q && check(q) == Check.VALID) {
                return q;
            }
        }
        return -1;
    }

    /** The offset just past the last non-zero byte at or after {@code offset} ({@code offset} if all are zero). */
    long nonZeroEnd(long offset) throws IOException {
        long windowEnd = size;
        while (windowEnd > offset) {
            long windowStartAt = Math.max(offset, windowEnd - DEFAULT_WINDOW_BYTES);
            int len = (int) (windowEnd - windowStartAt);
            int idx = ensure(windowStartAt, len);
            int i = len;
            while (i >= Long.BYTES && buffer.getLong(idx + i - Long.BYTES) == 0L) {
                i -= Long.BYTES;
            }
            while (i > 0 && buffer.getByte(idx + i - 1) == 0) {
                i--;
            }
            if (i > 0) {
                return windowStartAt + i;
            }
            windowEnd = windowStartAt;
        }
        return offset;
    }

    /** Copies bytes {@code [from, to)} of the segment into {@code dst} at its position. */
    void copy(long from, long to, ByteBuffer dst) throws IOException {
        long at = from;
        while (at < to) {
            int len = (int) Math.min(DEFAULT_WINDOW_BYTES, to - at);
            int idx = ensure(at, len);
            buffer.getBytes(idx, dst, len);
            at += len;
        }
    }

    @Override
    public void close() throws IOException {
        BufferUtil.free(window);
        window = null;
        file.close();
    }
}
