package dev.redoubt.engine;

import dev.redoubt.common.EntryKind;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageException;
import org.agrona.DirectBuffer;

/**
 * The payload of a WAL {@code WRITE_BATCH} record.
 *
 * <pre>
 * batch   := count:u32le op*count
 * op      := kind:u8 keyLength:varint32 key[keyLength] (kind = PUT: valueLength:varint32 value[valueLength])
 * kind    := 1 PUT | 2 DELETE
 * </pre>
 *
 * The operation at index {@code i} of the batch logged at LSN {@code L} has sequence number {@code L + i}:
 * every operation takes at least two bytes of the payload, so the sequences of a batch stay below the next
 * record's LSN (see {@link dev.redoubt.common.KeyOrder}). The decoder treats the bytes as hostile: the count
 * is bounded by the payload length and every length by {@link Limits} and by the bytes left.
 */
final class WriteBatchFormat {
    static final int COUNT_LENGTH = 4;
    static final int MIN_OP_LENGTH = 2;

    /** Receives decoded operations. */
    interface OpHandler {
        void op(int index, EntryKind kind, byte[] key, byte[] value);
    }

    private WriteBatchFormat() {
    }

    /** Decodes every operation of the batch in {@code [offset, offset + length)} of {@code b}. */
    static int decode(DirectBuffer b, int offset, int length, long lsn, OpHandler handler) {
        if (length < COUNT_LENGTH) {
            throw corrupt(lsn, "payload of " + length + " bytes is shorter than the count");
        }
        int count = b.getInt(offset, java.nio.ByteOrder.LITTLE_ENDIAN);
        if (count < 0 || (long) count * MIN_OP_LENGTH > length - COUNT_LENGTH) {
            throw corrupt(lsn, "operation count " + count + " cannot fit in " + length + " bytes");
        }
        int at = offset + COUNT_LENGTH;
        int end = offset + length;
        for (int i = 0; i < count; i++) {
            if (at >= end) {
                throw corrupt(lsn, "operation " + i + " of " + count + " starts past the payload");
            }
            EntryKind kind = EntryKind.fromCode(b.getByte(at++));
            if (kind == null) {
                throw corrupt(lsn, "unknown operation kind at operation " + i);
            }
            long[] cursor = {at};
            byte[] key = lengthPrefixed(b, cursor, end, Limits.MAX_KEY_BYTES, lsn);
            byte[] value = kind == EntryKind.PUT ? lengthPrefixed(b, cursor, end, Limits.MAX_VALUE_BYTES, lsn) : EMPTY;
            at = (int) cursor[0];
            handler.op(i, kind, key, value);
        }
        if (at != end) {
            throw corrupt(lsn, (end - at) + " bytes left after the last operation");
        }
        return count;
    }

    static final byte[] EMPTY = new byte[0];

    private static byte[] lengthPrefixed(DirectBuffer b, long[] cursor, int end, int max, long lsn) {
        int at = (int) cursor[0];
        long length = 0;
        int shift = 0;
        while (true) {
            if (at >= end || shift > 28) {
                throw corrupt(lsn, "bad length varint at payload byte " + at);
            }
            int x = b.getByte(at++) & 0xFF;
            length |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        if (length > max || length > end - at) {
            throw corrupt(lsn, "length " + length + " exceeds the bound " + Math.min(max, end - at));
        }
        byte[] bytes = new byte[(int) length];
        b.getBytes(at, bytes);
        cursor[0] = at + length;
        return bytes;
    }

    private static StorageException corrupt(long lsn, String problem) {
        return new StorageException(ErrorCode.CORRUPTION, "write batch at WAL LSN " + lsn + ": " + problem);
    }
}
