package dev.redoubt.wal;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Checks a chunk of a primary's log before a backup writes a byte of it ({@link LogWriter#appendReplicated}): the
 * chunk is whole records in LSN order, each with its checksum and fields valid (the same record checks as
 * {@link SegmentReader}'s, from {@link WalRecordDescriptor}), each at the LSN where the log continues, within this
 * log's segment geometry, with epochs that never go back, and compressed payloads that inflate to their raw
 * length. The bytes come from the network: every length is bounded before it is used.
 *
 * <p>Not thread-safe: the log's leader (under its write lock) is its only user.
 */
final class ReplicaChunkCheck {
    private final int segmentBytes;
    private final PayloadInflater inflater;
    private final CRC32C crc = new CRC32C();

    ReplicaChunkCheck(int segmentBytes, PayloadInflater inflater) {
        this.segmentBytes = segmentBytes;
        this.inflater = inflater;
    }

    /**
     * Validates a replicated chunk ({@code [from, to)} of {@code b}, {@code view} a duplicate of its buffer) against
     * a log whose written end is {@code position}, whose active segment ends at {@code activeEnd} and whose
     * latest epoch is {@code epoch}; returns the epoch of the chunk's last record.
     *
     * @throws RejectedChunkException the chunk does not continue the log, or a record in it is damaged
     */
    long check(UnsafeBuffer b, ByteBuffer view, int from, int to, long position, long activeEnd, long epoch) {
        long expected = position;
        long segmentEnd = activeEnd;
        long lastEpoch = epoch;
        for (int at = from; at < to; ) {
            int remaining = to - at;
            if (remaining < WalRecordDescriptor.HEADER_LENGTH) {
                throw new RejectedChunkException("a record header is cut short: " + remaining + " bytes at LSN " + expected);
            }
            long lsn = WalRecordDescriptor.lsn(b, at);
            if (lsn == segmentEnd && segmentEnd - expected < WalRecordDescriptor.HEADER_LENGTH) {
                expected = segmentEnd; // the previous segment ended with too little room for a padding header
                segmentEnd += segmentBytes;
            }
            if (lsn != expected) {
                throw new RejectedChunkException("record of LSN " + lsn + " where LSN " + expected + " is next"
                        + (lsn > expected ? " (a gap: the stream skipped bytes, or the primary's segment size differs"
                        + " from this log's " + segmentBytes + " bytes; both must use the same segment size)" : ""));
            }
            int stored = WalRecordDescriptor.storedLength(b, at);
            byte typeCode = WalRecordDescriptor.typeCode(b, at);
            RecordType type = RecordType.fromCode(typeCode);
            if (type == null) {
                throw new RejectedChunkException("unknown record type " + typeCode + " at LSN " + lsn);
            }
            boolean padding = type == RecordType.PADDING;
            long recordEnd = lsn + WalRecordDescriptor.HEADER_LENGTH + (long) stored;
            int sent = padding ? WalRecordDescriptor.HEADER_LENGTH : WalRecordDescriptor.HEADER_LENGTH + stored;
            if (stored < 0 || stored > WalRecordDescriptor.MAX_PAYLOAD_BYTES || (!padding && sent > remaining)) {
                throw new RejectedChunkException("stored length " + stored + " at LSN " + lsn + " exceeds the "
                        + remaining + " bytes left in the chunk");
            }
            String mismatch = WalRecordDescriptor.checksumMismatch(b, view, crc, at, typeCode, stored);
            if (mismatch != null) {
                throw new RejectedChunkException(mismatch + " in the record of LSN " + lsn);
            }
            String invalid = WalRecordDescriptor.invalidFields(b, at, type, stored, lsn);
            if (invalid != null) {
                throw new RejectedChunkException(invalid + " in the record of LSN " + lsn);
            }
            if (padding ? recordEnd != segmentEnd : recordEnd > segmentEnd) {
                throw new RejectedChunkException("the record of LSN " + lsn + " ends at " + recordEnd + " but this "
                        + "log's segment ends at " + segmentEnd + ": primary and backup must use the same segment size ("
                        + segmentBytes + " bytes here)");
            }
            if (!padding && (WalRecordDescriptor.flags(b, at) & WalRecordDescriptor.FLAG_LZ4) != 0) {
                checkInflates(b, at, stored, lsn);
            }
            long recordEpoch = WalRecordDescriptor.epoch(b, at);
            if (recordEpoch < lastEpoch) {
                throw new RejectedChunkException("the record of LSN " + lsn + " has epoch " + recordEpoch
                        + ", older than epoch " + lastEpoch + " this log already holds");
            }
            lastEpoch = recordEpoch;
            expected = recordEnd;
            at += sent;
        }
        return lastEpoch;
    }

    /**
     * A compressed payload must inflate to exactly its raw length before the record is written: the applier
     * would otherwise fail on it after the fsync, with the bad record already in the log.
     */
    private void checkInflates(UnsafeBuffer b, int at, int stored, long lsn) {
        int raw = WalRecordDescriptor.rawLength(b, at);
        if (inflater.inflate(b, at + WalRecordDescriptor.HEADER_LENGTH, stored, raw) == null) {
            throw new RejectedChunkException("the LZ4 payload of the record of LSN " + lsn
                    + " does not inflate to its raw length " + raw);
        }
    }

    /** A replicated chunk that does not continue this log; nothing was written and the log stays usable. */
    static final class RejectedChunkException extends StorageException {
        private static final long serialVersionUID = 1L;

        RejectedChunkException(String message) {
            super(ErrorCode.CORRUPTION, "rejected a replicated WAL chunk: " + message);
        }
    }
}
