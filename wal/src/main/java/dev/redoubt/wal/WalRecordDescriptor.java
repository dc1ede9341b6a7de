package dev.redoubt.wal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The layout of one WAL record. The only class that knows a header offset.
 *
 * <pre>
 * A segment is a sequence of records starting at file offset 0; a record never spans segments.
 * Every integer is little-endian.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                            CRC32C                             |  0  over bytes [4, 40 + storedLength)
 *  +---------------------------------------------------------------+     (PADDING: over [4, 40) only)
 *  |                        stored length                          |  4  payload bytes that follow the header
 *  +---------------+---------------+---------------+---------------+
 *  |     type      |     flags     |    version    |  reserved (0) |  8  type: 1 WRITE_BATCH, 2 CHECKPOINT,
 *  +---------------+---------------+---------------+---------------+     3 EPOCH_CHANGE, 4 PADDING
 *  |                          raw length                           | 12  payload length before compression
 *  +---------------------------------------------------------------+
 *  |                              LSN                              | 16  == segment base LSN + file offset
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                             epoch                             | 24  writer's epoch (fencing)
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          durable LSN                          | 32  every log byte below it had been
 *  |                                                               |     fsynced when this record was written
 *  +---------------------------------------------------------------+
 *  |                     payload (stored length)                  ...  40
 *  +---------------------------------------------------------------+
 *
 * flags: bit 0 = payload is LZ4 block-compressed (raw length = decompressed size); other bits 0.
 * version: {@value #FORMAT_VERSION}.
 * PADDING: written when the next record does not fit in the segment; its stored length covers the rest
 * of the segment, whose content is unspecified. If fewer than 40 bytes remain, no padding is written
 * and the rest of the segment is left as it is (zeros from preallocation).
 * </pre>
 *
 * <p>Why the LSN is in the header: a preallocated, reused or partially rewritten segment may hold bytes
 * of an older log whose checksums are valid. A record is live only if its LSN equals its position, so
 * stale bytes read as the end of the log, never as data. Why the durable LSN: recovery can then prove
 * that damaged bytes had been fsynced (a later record says so), which tells acknowledged data from a torn,
 * never-acknowledged tail.
 */
public final class WalRecordDescriptor {

    public static final int CRC_OFFSET = 0;
    public static final int STORED_LENGTH_OFFSET = 4;
    public static final int TYPE_OFFSET = 8;
    public static final int FLAGS_OFFSET = 9;
    public static final int VERSION_OFFSET = 10;
    public static final int RESERVED_OFFSET = 11;
    public static final int RAW_LENGTH_OFFSET = 12;
    public static final int LSN_OFFSET = 16;
    public static final int EPOCH_OFFSET = 24;
    public static final int DURABLE_LSN_OFFSET = 32;
    public static final int HEADER_LENGTH = 40;

    /** The first byte covered by the checksum. */
    public static final int CHECKSUMMED_OFFSET = STORED_LENGTH_OFFSET;

    public static final byte FORMAT_VERSION = 1;
    public static final int FLAG_LZ4 = 1;
    public static final int KNOWN_FLAGS = FLAG_LZ4;

    /**
     * Hard ceiling on a record's payload, whatever the options say: a length read from disk above it
     * is corruption, so a damaged length can never make a reader allocate more than this.
     */
    public static final int MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

    /** LZ4's worst case is far below this; a raw length above stored * this is corruption. */
    static final int MAX_COMPRESSION_RATIO = 256;

    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    static {
        if (DURABLE_LSN_OFFSET + Long.BYTES != HEADER_LENGTH) {
            throw new AssertionError("header fields must end at HEADER_LENGTH");
        }
        if (LSN_OFFSET % Long.BYTES != 0 || EPOCH_OFFSET % Long.BYTES != 0) {
            throw new AssertionError("long fields must be 8-byte aligned within the header");
        }
    }

    private WalRecordDescriptor() {
    }

    public static int storedLength(DirectBuffer b, int at) {
        return b.getInt(at + STORED_LENGTH_OFFSET, ORDER);
    }

    public static int rawLength(DirectBuffer b, int at) {
        return b.getInt(at + RAW_LENGTH_OFFSET, ORDER);
    }

    public static int checksum(DirectBuffer b, int at) {
        return b.getInt(at + CRC_OFFSET, ORDER);
    }

    public static byte typeCode(DirectBuffer b, int at) {
        return b.getByte(at + TYPE_OFFSET);
    }

    public static int flags(DirectBuffer b, int at) {
        return b.getByte(at + FLAGS_OFFSET) & 0xFF;
    }

    public static int version(DirectBuffer b, int at) {
        return b.getByte(at + VERSION_OFFSET) & 0xFF;
    }

    public static int reserved(DirectBuffer b, int at) {
        return b.getByte(at + RESERVED_OFFSET) & 0xFF;
    }

    public static long lsn(DirectBuffer b, int at) {
        return b.getLong(at + LSN_OFFSET, ORDER);
    }

    public static long epoch(DirectBuffer b, int at) {
        return b.getLong(at + EPOCH_OFFSET, ORDER);
    }

    public static long durableLsn(DirectBuffer b, int at) {
        return b.getLong(at + DURABLE_LSN_OFFSET, ORDER);
    }

    /**
     * Checks the header fields of a record whose checksum already matched: format version, flags, raw length
     * against stored length, durable LSN no later than the record, a non-negative epoch. Returns what is wrong,
     * or null when the fields are consistent.
     */
    public static String invalidFields(DirectBuffer b, int at, RecordType type, int stored, long lsn) {
        int version = version(b, at);
        if (version != FORMAT_VERSION) {
            return "format version " + version + " (this build reads " + FORMAT_VERSION + ")";
        }
        int flags = flags(b, at);
        if ((flags & ~KNOWN_FLAGS) != 0 || reserved(b, at) != 0) {
            return "unknown flags " + flags;
        }
        int raw = rawLength(b, at);
        if (type != RecordType.PADDING) {
            boolean compressed = (flags & FLAG_LZ4) != 0;
            boolean rawOk = compressed
                    ? raw >= 0 && raw <= MAX_PAYLOAD_BYTES && (long) raw <= (long) stored * MAX_COMPRESSION_RATIO
                    : raw == stored;
            if (!rawOk) {
                return "raw length " + raw + " inconsistent with stored length " + stored;
            }
        }
        long durable = durableLsn(b, at);
        if (durable < 0 || durable > lsn) {
            return "durable LSN " + durable + " beyond the record's own LSN " + lsn;
        }
        if (epoch(b, at) < 0) {
            return "negative epoch";
        }
        return null;
    }

    /** Writes every header field except the checksum. */
    public static void writeHeader(MutableDirectBuffer b, int at, RecordType type, int flags, int storedLength,
                                   int rawLength, long lsn, long epoch, long durableLsn) {
        b.putInt(at + STORED_LENGTH_OFFSET, storedLength, ORDER);
        b.putByte(at + TYPE_OFFSET, type.code());
        b.putByte(at + FLAGS_OFFSET, (byte) flags);
        b.putByte(at + VERSION_OFFSET, FORMAT_VERSION);
        b.putByte(at + RESERVED_OFFSET, (byte) 0);
        b.putInt(at + RAW_LENGTH_OFFSET, rawLength, ORDER);
        b.putLong(at + LSN_OFFSET, lsn, ORDER);
        b.putLong(at + EPOCH_OFFSET, epoch, ORDER);
        b.putLong(at + DURABLE_LSN_OFFSET, durableLsn, ORDER);
    }

    /**
     * Writes a whole record at {@code at}: its header, the {@code storedLength} payload bytes from
     * {@code payload} and the checksum. The one encoder of a record: the log's appenders, its large records and
     * {@link RecordFile} all write through it. {@code view} is a duplicate of {@code b}'s backing
     * {@link ByteBuffer} (see {@link #computeChecksum}).
     */
    public static void writeRecord(MutableDirectBuffer b, ByteBuffer view, CRC32C crc, int at, RecordType type,
                                   int flags, DirectBuffer payload, int payloadOffset, int storedLength,
                                   int rawLength, long lsn, long epoch, long durableLsn) {
        writeHeader(b, at, type, flags, storedLength, rawLength, lsn, epoch, durableLsn);
        b.putBytes(at + HEADER_LENGTH, payload, payloadOffset, storedLength);
        putChecksum(b, at, computeChecksum(crc, view, at, checksummedLength(type.code(), storedLength)));
    }

    /** Length of the byte range the checksum covers, for a record of this type and stored length. */
    public static int checksummedLength(byte typeCode, int storedLength) {
        int covered = typeCode == RecordType.PADDING.code() ? 0 : storedLength;
        return HEADER_LENGTH - CHECKSUMMED_OFFSET + covered;
    }

    /**
     * CRC32C of the checksummed range of the record at {@code at}. {@code view} must be a duplicate of
     * the buffer's backing {@link ByteBuffer} (so its position and limit can be moved without garbage).
     */
    public static int computeChecksum(CRC32C crc, ByteBuffer view, int at, int checksummedLength) {
        crc.reset();
        view.clear();
        view.position(at + CHECKSUMMED_OFFSET);
        view.limit(at + CHECKSUMMED_OFFSET + checksummedLength);
        crc.update(view);
        return (int) crc.getValue();
    }

    /**
     * Null when the record at {@code at} (of this type and stored length, both already bounded) matches its
     * checksum; else what is wrong, in words. The one check both the log's reader and a backup's check of a
     * replicated chunk make.
     */
    public static String checksumMismatch(DirectBuffer b, ByteBuffer view, CRC32C crc, int at, byte typeCode,
                                          int storedLength) {
        int expected = checksum(b, at);
        int actual = computeChecksum(crc, view, at, checksummedLength(typeCode, storedLength));
        return expected == actual ? null : "checksum mismatch (stored " + Integer.toHexString(expected)
                + ", computed " + Integer.toHexString(actual) + ")";
    }

    public static void putChecksum(MutableDirectBuffer b, int at, int crc) {
        b.putInt(at + CRC_OFFSET, crc, ORDER);
    }

    /**
     * Writes a complete PADDING header at {@code at} covering {@code fillerLength} bytes after it. Its
     * checksum covers the header only, so the filler may hold anything.
     */
    public static void writePadding(MutableDirectBuffer b, ByteBuffer view, CRC32C crc, int at, long lsn,
                                    int fillerLength, long epoch, long durableLsn) {
        writeHeader(b, at, RecordType.PADDING, 0, fillerLength, 0, lsn, epoch, durableLsn);
        int covered = checksummedLength(RecordType.PADDING.code(), fillerLength);
        putChecksum(b, at, computeChecksum(crc, view, at, covered));
    }

    /** Whether the {@code HEADER_LENGTH} bytes at {@code at} are all zero (never-written preallocated space). */
    public static boolean isZeroHeader(DirectBuffer b, int at) {
        for (int i = 0; i < HEADER_LENGTH; i += Long.BYTES) {
            if (b.getLong(at + i) != 0L) {
                return false;
            }
        }
        return true;
    }
}
