package dev.redoubt.wal;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Creates segment files filled with zeros and fsynced, under their {@code .prealloc} name, so that the hot
 * path's fdatasync never has to commit block allocation (measured: 4 KiB write + fdatasync costs about 90 us
 * into a preallocated file and about 170 us into a sparse or growing one). One segment may be prepared ahead
 * by the flusher thread; the log writer takes it at the roll, or creates one itself if none is ready.
 *
 * <p>Thread-safety: {@link #prepare} runs on the flusher thread, {@link #take} under the writer lock; both
 * hold this object's monitor, so a roll that arrives while the next segment is being prepared waits for it
 * rather than creating the same file twice.
 */
final class SegmentAllocator {
    private static final int ZERO_CHUNK_BYTES = 1024 * 1024;

    /** A preallocated segment waiting to become live. */
    record Prepared(long base, Path path, StorageFile file) {
    }

    private final StorageEnv env;
    private final Path walDir;
    private final int segmentBytes;
    private Prepared ready; // guarded by this

    SegmentAllocator(StorageEnv env, Path walDir, int segmentBytes) {
        this.env = env;
        this.walDir = walDir;
        this.segmentBytes = segmentBytes;
    }

    int segmentBytes() {
        return segmentBytes;
    }

    /** Prepares the segment at {@code base} unless it (or another) is already waiting. Flusher thread only. */
    synchronized void prepare(long base) throws IOException {
        if (ready != null && ready.base == base) {
            return;
        }
        discard(ready);
        ready = null;
        ready = create(base);
    }

    synchronized boolean isPrepared(long base) {
        return ready != null && ready.base == base;
    }

    /**
     * Returns the live, open segment file at {@code base}: the prepared one renamed into place, or a new one.
     * The rename is made durable (directory fsync) before the method returns.
     */
    synchronized StorageFile take(long base) throws IOException {
        Prepared prepared = ready;
        ready = null;
        if (prepared != null && prepared.base != base) {
            discard(prepared);
            prepared = null;
        }
        if (prepared == null) {
            prepared = create(base);
        }
        CrashPoints.hit(CrashPoints.WAL_ROLL_BEFORE_RENAME);
        env.rename(prepared.path, SegmentFiles.segmentPath(walDir, base));
        CrashPoints.hit(CrashPoints.WAL_ROLL_AFTER_RENAME);
        env.syncDirectory(walDir);
        return prepared.file;
    }

    private Prepared create(long base) throws IOException {
        Path path = SegmentFiles.preallocPath(walDir, base);
        StorageFile file = env.openForWrite(path);
        try {
            file.truncate(0);
            ByteBuffer zeros = ByteBuffer.allocateDirect(Math.min(ZERO_CHUNK_BYTES, segmentBytes));
            for (long at = 0; at < segmentBytes; at += zeros.capacity()) {
                zeros.clear();
                zeros.limit((int) Math.min(zeros.capacity(), segmentBytes - at));
                file.write(at, zeros);
            }
            file.force();
        } catch (IOException | RuntimeException e) {
            file.close();
            env.delete(path);
            throw e;
        }
        return new Prepared(base, path, file);
    }

    /** Deletes a waiting segment (at close, or when the log moved elsewhere). */
    synchronized void discardReady() throws IOException {
        Prepared prepared = ready;
        ready = null;
        discard(prepared);
    }

    private void discard(Prepared prepared) throws IOException {
        if (prepared != null) {
            prepared.file.close();
            env.delete(prepared.path);
        }
    }
}
