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

    /** Receives decoded operations as copies. */
    interface OpHandler {
        void op(int index, EntryKind kind, byte[] key, byte[] value);
    }

    /**
     * Receives decoded operations as slices of the payload's buffer: valid only during the call (the write path
     * copies them straight into the memtable's arena, allocating nothing). A DELETE's value slice is empty.
     */
    interface SliceHandler {
        void op(int index, EntryKind kind, DirectBuffer buffer, int keyOffset, int keyLength, int valueOffset,
                int valueLength);
    }

    private WriteBatchFormat() {
    }

    /** Decodes every operation of the batch in {@code [offset, offset + length)} of {@code b}, as copies. */
    static int decode(DirectBuffer b, int offset, int length, long lsn, OpHandler handler) {
        return decodeSlices(b, offset, length, lsn, (i, kind, buffer, keyOffset, keyLength, valueOffset, valueLength) ->
                handler.op(i, kind, copy(buffer, keyOffset, keyLength), copy(buffer, valueOffset, valueLength)));
    }

    /** Decodes every operation of the batch in {@code [offset, offset + length)} of {@code b}, as slices. */
    static int decodeSlices(DirectBuffer b, int offset, int length, long lsn, SliceHandler handler) {
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
            long key = lengthPrefixed(b, at, end, Limits.MAX_KEY_BYTES, lsn);
            int keyOffset = sliceOffset(key);
            int keyLength = sliceLength(key);
            at = keyOffset + keyLength;
            int valueOffset = at;
            int valueLength = 0;
            if (kind == EntryKind.PUT) {
                long value = lengthPrefixed(b, at, end, Limits.MAX_VALUE_BYTES, lsn);
                valueOffset = sliceOffset(value);
                valueLength = sliceLength(value);
                at = valueOffset + valueLength;
            }
            handler.op(i, kind, b, keyOffset, keyLength, valueOffset, valueLength);
        }
        if (at != end) {
            throw corrupt(lsn, (end - at) + " bytes left after the last operation");
        }
        return count;
    }

    static final byte[] EMPTY = new byte[0];

    private static byte[] copy(DirectBuffer b, int offset, int length) {
        if (length == 0) {
            return EMPTY;
        }
        byte[] bytes = new byte[length];
        b.getBytes(offset, bytes);
        return bytes;
    }

    /**
     * Reads a varint32 length at {@code at} and checks it against {@code max} and the bytes left before
     * {@code end}; returns the slice it announces as {@code offset << 32 | length} (both non-negative ints).
     */
    private static long lengthPrefixed(DirectBuffer b, int at, int end, int max, long lsn) {
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
        return (long) at << 32 | length;
    }

    private static int sliceOffset(long slice) {
        return (int) (slice >>> 32);
    }

    private static int sliceLength(long slice) {
        return (int) slice;
    }

    private static StorageException corrupt(long lsn, String problem) {
        return new StorageException(ErrorCode.CORRUPTION, "write batch at WAL LSN " + lsn + ": " + problem);
    }
}
