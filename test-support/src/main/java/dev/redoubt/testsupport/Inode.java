package dev.redoubt.testsupport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The content of one simulated file, in two versions: what the page cache holds now ({@code data},
 * {@code length}) and what stable storage holds as of the last {@link #force()} ({@code durable},
 * {@code durableLength}).
 *
 * <p>Invariant of both arrays: every byte at or beyond the version's length is zero, so growing a
 * version never exposes stale bytes (a zero-filled gap comes for free).
 *
 * <p>{@link #force()} copies only the range changed since the previous force ({@code dirtyFrom}
 * onwards): a log that is appended to and forced thousands of times would otherwise copy its whole
 * content on every force.
 *
 * <p>Not thread-safe: {@link SimulatedStorageEnv} calls it under its env-wide lock.
 */
final class Inode {

    /** Arrays are indexed by int; leave the JVM's usual array-header slack. */
    private static final long MAX_LENGTH = Integer.MAX_VALUE - 8;

    private byte[] data = new byte[0];
    private int length;
    private byte[] durable = new byte[0];
    private int durableLength;
    /** The lowest offset where {@code data} may differ from {@code durable}; {@code length} or more when clean. */
    private int dirtyFrom;
    /** The last write since the last force ({@code lastWriteCount} 0: none), for a torn-write power cut. */
    private long lastWriteOffset;
    private int lastWriteCount;

    int length() {
        return length;
    }

    int read(long position, ByteBuffer dst) {
        if (position >= length) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), length - position);
        dst.put(data, (int) position, n);
        return n;
    }

    /** Writes {@code count} bytes of {@code src} (the caller has checked the space budget). */
    void write(long position, ByteBuffer src, int count) throws IOException {
        int end = checkedEnd(position, count);
        if (count == 0) {
            return; // like a real write of nothing: the file does not grow to position
        }
        ensureCapacity(end);
        // A gap between the old end and position becomes part of the file; it is zero in both copies
        // (the invariant), so marking it dirty is only a cheap safety margin for the next force.
        markDirty((int) Math.min(position, length));
        src.get(data, (int) position, count);
        length = Math.max(length, end);
        lastWriteOffset = position;
        lastWriteCount = count;
    }

    void truncate(long size) throws IOException {
        int newLength = checkedEnd(size, 0);
        if (newLength < length) {
            Arrays.fill(data, newLength, length, (byte) 0);
        } else {
            ensureCapacity(newLength);
        }
        markDirty(Math.min(length, newLength));
        length = newLength;
    }

    /** Makes the current content and length durable. */
    void force() {
        if (durable.length < length) {
            durable = Arrays.copyOf(durable, capacityFor(length, durable.length));
        }
        int from = Math.min(dirtyFrom, length);
        System.arraycopy(data, from, durable, from, length - from);
        if (durableLength > length) {
            Arrays.fill(durable, length, durableLength, (byte) 0);
        }
        durableLength = length;
        dirtyFrom = length;
        lastWriteCount = 0;
    }

    /**
     * The power cut: the page cache is lost, the content becomes the durable one. A fresh array is
     * installed so that nothing holding the old one can reach post-cut state.
     */
    void revertToDurable() {
        data = Arrays.copyOf(durable, durableLength);
        length = durableLength;
        dirtyFrom = length;
        lastWriteCount = 0;
    }

    /**
     * The power cut with a torn write: like {@link #revertToDurable()}, except that the last unsynced write
     * keeps a prefix that ends at a {@value #SECTOR_BYTES}-byte sector boundary, chosen by {@code pick} among
     * the boundaries inside the write (none kept if the write lies within one sector: a sector is atomic).
     */
    void revertToDurableTearingLastWrite(java.util.function.IntUnaryOperator pick) {
        byte[] current = data;
        long from = lastWriteOffset;
        long end = from + lastWriteCount;
        int boundaries = lastWriteCount == 0 ? 0 : (int) (end / SECTOR_BYTES - from / SECTOR_BYTES);
        revertToDurable();
        if (boundaries == 0) {
            return;
        }
        long keepTo = (from / SECTOR_BYTES + 1 + pick.applyAsInt(boundaries)) * SECTOR_BYTES;
        int to = (int) Math.min(keepTo, end);
        ensureCapacity(to);
        System.arraycopy(current, (int) from, data, (int) from, to - (int) from);
        length = Math.max(length, to);
        dirtyFrom = Math.min(dirtyFrom, (int) from);
    }

    static final int SECTOR_BYTES = 512;

    byte[] currentBytes() {
        return Arrays.copyOf(data, length);
    }

    /**
     * Media corruption: overwrites {@code bytes} at {@code offset} in both versions, in each only where
     * that version holds the byte (the range must lie within the current content).
     */
    void overwriteBoth(long offset, byte[] bytes) {
        checkWithinCurrent(offset, bytes.length);
        System.arraycopy(bytes, 0, data, (int) offset, bytes.length);
        System.arraycopy(bytes, 0, durable, (int) offset, durableCount(offset, bytes.length));
    }

    /** Media corruption: XORs the byte at {@code offset} with {@code mask} in both versions (where held). */
    void flipBoth(long offset, byte mask) {
        checkWithinCurrent(offset, 1);
        data[(int) offset] ^= mask;
        if (durableCount(offset, 1) == 1) {
            durable[(int) offset] ^= mask;
        }
    }

    private void checkWithinCurrent(long offset, int count) {
        if (offset < 0 || offset + count > length) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + count)
                    + ") is outside the file's " + length + " bytes");
        }
    }

    /** How many of the {@code count} bytes at {@code offset} the durable version holds. */
    private int durableCount(long offset, int count) {
        return (int) Math.max(0, Math.min(count, durableLength - offset));
    }

    private void markDirty(int from) {
        dirtyFrom = Math.min(dirtyFrom, from);
    }

    private void ensureCapacity(int needed) {
        if (data.length < needed) {
            data = Arrays.copyOf(data, capacityFor(needed, data.length));
        }
    }

    private static int capacityFor(int needed, int current) {
        // Doubling keeps appends amortised O(1).
        return (int) Math.max(needed, Math.min(MAX_LENGTH, 2L * current));
    }

    private static int checkedEnd(long position, int count) throws IOException {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        long end = position + count;
        if (end > MAX_LENGTH) {
            throw new IOException("file of " + end + " bytes is too large for the simulated env");
        }
        return (int) end;
    }
}
