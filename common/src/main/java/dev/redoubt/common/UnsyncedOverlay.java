package dev.redoubt.common;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the page cache holds for one file (one inode) beyond what its last completed {@code force()} made durable:
 * the written ranges, the length the process sees, and how much of the file on disk a truncation has hidden. The
 * file on disk is never written until {@link #flush}, so it holds exactly the durable state: when the process dies
 * the overlay dies with it, which is what a power cut does to the page cache. Used by {@link PowerLossStorageEnv}.
 *
 * <p>The state, and what a read at position {@code p < size} sees:
 * <pre>
 * extents       disjoint written ranges, by start; all below size     p inside one: its bytes
 * diskVisible   bytes of the disk file still visible (a truncation     else p &lt; diskVisible: the disk's byte
 *               since the last flush lowers it); diskVisible &lt;= size   else: zero (a hole, or bytes a truncation
 *               and diskVisible &lt;= diskSize                              removed and an extension brought back)
 * </pre>
 * {@link #flush} applies that state to the disk file in this order: shorten it to {@code diskVisible}, write
 * every extent, set its length to {@code size}, fsync; then the overlay is empty again. If it fails half way the
 * overlay is unchanged and the next flush writes the same bytes again.
 *
 * <p>Thread-safety: every method holds this object's monitor, so reads, writes, truncations and flushes of the
 * file are atomic with respect to each other, from any handle and any thread (a flush holds it through the
 * fsync: a write racing with a force lands wholly before or wholly after it).
 */
final class UnsyncedOverlay {
    /** Appends grow an extent up to this size; then a new one starts (bounds the copy when a buffer grows). */
    static final int EXTENT_BYTES_MAX = 8 * 1024 * 1024;
    /** A new extent's first buffer, so that small appends do not copy at every step. */
    private static final int EXTENT_BYTES_MIN = 4096;
    private static final byte[] ZEROS = new byte[8192];

    /** One written range: {@code bytes[0, length)} at file position {@code start}. */
    private static final class Extent {
        final long start;
        byte[] bytes;
        int length;

        Extent(long start, byte[] bytes, int length) {
            this.start = start;
            this.bytes = bytes;
            this.length = length;
        }

        long end() {
            return start + length;
        }
    }

    private final TreeMap<Long, Extent> extents = new TreeMap<>();
    private long size;
    private long diskSize;
    private long diskVisible;

    /** An overlay with nothing unsynced over a disk file of {@code diskSize} bytes. */
    UnsyncedOverlay(long diskSize) {
        if (diskSize < 0) {
            throw new IllegalArgumentException("disk size " + diskSize);
        }
        this.size = diskSize;
        this.diskSize = diskSize;
        this.diskVisible = diskSize;
    }

    /** The file's length as the process sees it. */
    synchronized long size() {
        return size;
    }

    /** Whether the disk file equals what the process sees (nothing to flush). */
    synchronized boolean isClean() {
        return extents.isEmpty() && diskVisible == diskSize && diskSize == size;
    }

    /** Bytes written since the last flush and still visible (overwrites counted once). */
    synchronized long unsyncedBytes() {
        long n = 0;
        for (Extent e : extents.values()) {
            n += e.length;
        }
        return n;
    }

    /** Reads up to {@code dst.remaining()} bytes at {@code position} as the process sees them; -1 at end of file. */
    synchronized int read(StorageFile disk, long position, ByteBuffer dst) throws IOException {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        if (position >= size) {
            return dst.hasRemaining() ? -1 : 0;
        }
        int n = (int) Math.min(dst.remaining(), size - position);
        long end = position + n;
        long at = position;
        while (at < end) {
            Map.Entry<Long, Extent> floor = extents.floorEntry(at);
            if (floor != null && floor.getValue().end() > at) {
                Extent e = floor.getValue();
                int len = (int) (Math.min(end, e.end()) - at);
                dst.put(e.bytes, (int) (at - e.start), len);
                at += len;
                continue;
            }
            Long next = extents.higherKey(at);
            long gapEnd = next == null ? end : Math.min(end, next);
            if (at < diskVisible) {
                long readEnd = Math.min(gapEnd, diskVisible);
                int limit = dst.limit();
                dst.limit(dst.position() + (int) (readEnd - at));
                try {
                    disk.readFully(at, dst);
                } finally {
                    dst.limit(limit);
                }
                at = readEnd;
            } else {
                while (at < gapEnd) {
                    int len = (int) Math.min(ZEROS.length, gapEnd - at);
                    dst.put(ZEROS, 0, len);
                    at += len;
                }
            }
        }
        return n;
    }

    /** Takes every remaining byte of {@code src} (as a write to the page cache) at {@code position}. */
    synchronized void write(long position, ByteBuffer src) {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        int n = src.remaining();
        if (n == 0) {
            return;
        }
        long end = position + n;
        cut(position, end);
        Map.Entry<Long, Extent> floor = extents.floorEntry(position);
        Extent before = floor == null ? null : floor.getValue();
        if (before != null && before.end() == position && (long) before.length + n <= EXTENT_BYTES_MAX) {
            int needed = before.length + n;
            if (needed > before.bytes.length) {
                int grown = (int) Math.min(EXTENT_BYTES_MAX, Math.max(needed, 2L * before.bytes.length));
                before.bytes = Arrays.copyOf(before.bytes, grown);
            }
            src.get(before.bytes, before.length, n);
            before.length = needed;
        } else {
            byte[] bytes = new byte[Math.max(n, EXTENT_BYTES_MIN)];
            src.get(bytes, 0, n);
            extents.put(position, new Extent(position, bytes, n));
        }
        size = Math.max(size, end);
    }

    /** Sets the length the process sees: shortening drops the bytes past it, extending reads as zeros. */
    synchronized void truncate(long newSize) {
        if (newSize < 0) {
            throw new IllegalArgumentException("negative size " + newSize);
        }
        cut(newSize, Long.MAX_VALUE);
        size = newSize;
        diskVisible = Math.min(diskVisible, newSize);
    }

    /**
     * Makes the disk file equal to what the process sees and fsyncs it (through {@code disk}, which must be open
     * for writing unless the overlay is clean); then nothing is unsynced.
     */
    synchronized void flush(StorageFile disk, boolean diskWritable) throws IOException {
        if (!isClean()) {
            if (!diskWritable) {
                throw new IOException("force() through a read-only handle, but " + unsyncedBytes()
                        + " bytes written through another handle are unsynced: force that handle");
            }
            if (diskVisible < diskSize) {
                disk.truncate(diskVisible);
                diskSize = diskVisible;
            }
            for (Extent e : extents.values()) {
                disk.write(e.start, ByteBuffer.wrap(e.bytes, 0, e.length));
                diskSize = Math.max(diskSize, e.end());
            }
            if (diskSize != size) {
                disk.truncate(size); // extends with zeros: the bytes past diskVisible read as zeros here too
                diskSize = size;
            }
        }
        disk.force();
        extents.clear();
        diskVisible = diskSize;
        assert isClean();
    }

    /** Removes {@code [from, to)} from the extents, keeping what lies on either side. */
    private void cut(long from, long to) {
        List<Extent> rightParts = new ArrayList<>(2);
        Map.Entry<Long, Extent> lower = extents.lowerEntry(from);
        if (lower != null && lower.getValue().end() > from) {
            Extent e = lower.getValue();
            if (e.end() > to) {
                rightParts.add(tail(e, to));
            }
            e.length = (int) (from - e.start);
        }
        var inside = extents.subMap(from, true, to, false);
        for (Extent e : inside.values()) {
            if (e.end() > to) {
                rightParts.add(tail(e, to));
            }
        }
        inside.clear();
        for (Extent e : rightParts) {
            extents.put(e.start, e);
        }
    }

    /** The part of {@code e} from position {@code from} on, as a new extent. */
    private static Extent tail(Extent e, long from) {
        int offset = (int) (from - e.start);
        int length = e.length - offset;
        return new Extent(from, Arrays.copyOfRange(e.bytes, offset, offset + length), length);
    }
}
