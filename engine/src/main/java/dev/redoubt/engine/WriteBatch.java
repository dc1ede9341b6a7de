package dev.redoubt.engine;

import dev.redoubt.common.ByteWriter;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Limits;
import java.nio.ByteBuffer;

/**
 * An ordered list of puts and deletes applied atomically: after a crash either every operation of the batch
 * is there or none is (the batch is one WAL record). Later operations on the same key win.
 *
 * <p>The batch is encoded as it is built (see {@link WriteBatchFormat}), so {@link Db#write} only copies it.
 * Not thread-safe; reusable after {@link #clear()}.
 */
public final class WriteBatch {
    private final ByteWriter bytes = new ByteWriter(64);
    private int count;

    public WriteBatch() {
        bytes.u32(0);
    }

    /** Sets {@code key} to {@code value}. */
    public WriteBatch put(byte[] key, byte[] value) {
        checkKey(key);
        if (value == null) {
            throw new NullPointerException("value must not be null (use delete to remove a key)");
        }
        if (value.length > Limits.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value of " + value.length + " bytes exceeds the limit of "
                    + Limits.MAX_VALUE_BYTES + " bytes");
        }
        bytes.u8(EntryKind.PUT.code()).lengthPrefixed(key).lengthPrefixed(value);
        count++;
        bytes.putU32(0, count);
        return this;
    }

    /**
     * Sets the key in {@code key}'s remaining bytes to the value in {@code value}'s (heap or direct buffers; their
     * positions are left where they were): the bytes go straight into the batch, with no array made on the way.
     */
    public WriteBatch put(ByteBuffer key, ByteBuffer value) {
        checkKey(key);
        if (value == null) {
            throw new NullPointerException("value must not be null (use delete to remove a key)");
        }
        if (value.remaining() > Limits.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value of " + value.remaining() + " bytes exceeds the limit of "
                    + Limits.MAX_VALUE_BYTES + " bytes");
        }
        bytes.u8(EntryKind.PUT.code()).lengthPrefixed(key).lengthPrefixed(value);
        count++;
        bytes.putU32(0, count);
        return this;
    }

    /** Removes the key in {@code key}'s remaining bytes (its position is left where it was). */
    public WriteBatch delete(ByteBuffer key) {
        checkKey(key);
        bytes.u8(EntryKind.DELETE.code()).lengthPrefixed(key);
        count++;
        bytes.putU32(0, count);
        return this;
    }

    /** Removes {@code key} (a no-op for a missing key, but still logged). */
    public WriteBatch delete(byte[] key) {
        checkKey(key);
        bytes.u8(EntryKind.DELETE.code()).lengthPrefixed(key);
        count++;
        bytes.putU32(0, count);
        return this;
    }

    static void checkKey(ByteBuffer key) {
        if (key == null) {
            throw new NullPointerException("key must not be null");
        }
        if (key.remaining() > Limits.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("key of " + key.remaining() + " bytes exceeds the limit of "
                    + Limits.MAX_KEY_BYTES + " bytes");
        }
    }

    static void checkKey(byte[] key) {
        if (key == null) {
            throw new NullPointerException("key must not be null");
        }
        if (key.length > Limits.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("key of " + key.length + " bytes exceeds the limit of "
                    + Limits.MAX_KEY_BYTES + " bytes");
        }
    }

    /** Number of operations. */
    public int count() {
        return count;
    }

    /** Encoded size in bytes (the WAL payload). */
    public int encodedBytes() {
        return bytes.length();
    }

    public WriteBatch clear() {
        bytes.reset();
        bytes.u32(0);
        count = 0;
        return this;
    }

    byte[] array() {
        return bytes.array();
    }
}
