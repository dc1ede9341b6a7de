package dev.redoubt.wal;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A segmented write-ahead log: the engine's hot path and the stream replication ships.
 *
 * <pre>{@code
 * try (Wal wal = Wal.open(dir)) {                        // recovers what is on disk first
 *     long lsn = wal.append(RecordType.WRITE_BATCH, bytes); // SYNC: returns after fsync
 *     try (WalReader r = wal.newReader(0)) { while (r.next()) { ... } }
 * }
 * }</pre>
 *
 * <p>Files: {@code <dir>/wal/<20-digit base LSN>.wal} segments (see {@link WalRecordDescriptor} for the
 * bytes), {@code <dir>/lost/} for bytes a recovery dropped. An LSN is the logical byte position of a
 * record's first byte; the first segment starts at LSN 0.
 *
 * <p>Thread-safety: every method may be called from any number of threads. Only one {@code Wal} may be open
 * on a directory at a time; the engine's {@code LOCK} file enforces that.
 */
public final class Wal implements AutoCloseable {
    public static final String WAL_DIR = "wal";
    public static final String LOST_DIR = "lost";

    private final StorageEnv env;
    private final Path walDir;
    private final WalOptions options;
    private final RecoveryReport recoveryReport;
    private final LogWriter writer;
    private final WalFlusher flusher;
    private final Object truncationLock = new Object();
    private final ThreadLocal<UnsafeBuffer> arrayView = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[0]));

    private Wal(StorageEnv env, Path walDir, WalOptions options, RecoveryReport report, LogWriter writer) {
        this.env = env;
        this.walDir = walDir;
        this.options = options;
        this.recoveryReport = report;
        this.writer = writer;
        this.flusher = new WalFlusher(writer, options, "redoubt-wal-flusher");
        this.flusher.start();
    }

    /** Opens (recovering first) or creates the log under {@code dir} with default options. */
    public static Wal open(Path dir) {
        return open(FileStorageEnv.INSTANCE, dir, WalOptions.defaults());
    }

    public static Wal open(Path dir, WalOptions options) {
        return open(FileStorageEnv.INSTANCE, dir, options);
    }

    /**
     * Opens the log under {@code dir}: removes unfinished preallocations, recovers by
     * {@link WalOptions#recoveryMode()} (throwing {@link WalCorruptionException} when the mode refuses), and
     * positions the writer at the end. Bytes recovered from the OS cache are fsynced before the first append.
     */
    public static Wal open(StorageEnv env, Path dir, WalOptions options) {
        return open(env, dir, options, RecordApplier.NONE);
    }

    /**
     * As {@link #open(StorageEnv, Path, WalOptions)}, with every record appended from now on handed to
     * {@code applier} in LSN order before its appender is acknowledged (see {@link RecordApplier}). Records
     * already in the log are not replayed to it: read them with {@link #newReader}.
     */
    public static Wal open(StorageEnv env, Path dir, WalOptions options, RecordApplier applier) {
        return open(env, dir, options, applier, 0);
    }

    /**
     * As {@link #open(StorageEnv, Path, WalOptions, RecordApplier)}; a log with no segment yet starts at
     * {@code startLsnIfEmpty} (a database restored from a checkpoint continues above its checkpoint LSN).
     */
    public static Wal open(StorageEnv env, Path dir, WalOptions options, RecordApplier applier, long startLsnIfEmpty) {
        options.validate();
        if (startLsnIfEmpty < 0) {
            throw new IllegalArgumentException("startLsnIfEmpty must be >= 0, got " + startLsnIfEmpty);
        }
        Path walDir = dir.resolve(WAL_DIR);
        try {
            env.createDirectories(walDir);
            for (Path p : env.list(walDir)) {
                if (SegmentFiles.isPrealloc(p)) {
                    env.delete(p);
                }
            }
            RecoveryReport report = WalRecovery.run(env, walDir, dir.resolve(LOST_DIR), options.recoveryMode(),
                    options.knownDurableLsn(), false, bytes -> { });
            // Names a crashed process renamed but never made durable (a roll cut short) become durable now,
            // before anything is acknowledged in them.
            env.syncDirectory(walDir);
            List<Path> segments = WalSegments.list(env, walDir);
            SegmentAllocator allocator = new SegmentAllocator(env, walDir, options.segmentBytes());
            LogWriter writer;
            if (segments.isEmpty()) {
                StorageFile first = allocator.take(startLsnIfEmpty);
                writer = new LogWriter(options, allocator, first, startLsnIfEmpty,
                        startLsnIfEmpty + options.segmentBytes(), startLsnIfEmpty, 0, applier);
            } else {
                Path last = segments.get(segments.size() - 1);
                long base = SegmentFiles.parseSegmentBase(last);
                StorageFile active = env.openForWrite(last);
                active.force();
                writer = new LogWriter(options, allocator, active, base, base + active.size(), report.endLsn(),
                        report.lastEpoch(), applier);
            }
            return new Wal(env, walDir, options, report, writer);
        } catch (IOException e) {
            throw StorageException.fromIo("opening the WAL in " + walDir, e);
        }
    }

    /**
     * What opening the log under {@code dir} with {@code mode} would find and drop, without changing any file
     * (no quarantine, no truncation). Throws {@link WalCorruptionException} where the mode would refuse.
     */
    public static RecoveryReport inspect(StorageEnv env, Path dir, RecoveryMode mode) {
        return inspect(env, dir, mode, bytes -> { });
    }

    /** As {@link #inspect(StorageEnv, Path, RecoveryMode)}, knowing the log durable below {@code knownDurableLsn}. */
    public static RecoveryReport inspect(StorageEnv env, Path dir, RecoveryMode mode, long knownDurableLsn) {
        return inspect(env, dir, mode, knownDurableLsn, bytes -> { });
    }

    /**
     * As {@link #inspect(StorageEnv, Path, RecoveryMode)}, reporting the log bytes scanned so far to
     * {@code progress} (about every MiB), for a progress bar.
     */
    public static RecoveryReport inspect(StorageEnv env, Path dir, RecoveryMode mode, java.util.function.LongConsumer progress) {
        return inspect(env, dir, mode, 0, progress);
    }

    private static RecoveryReport inspect(StorageEnv env, Path dir, RecoveryMode mode, long knownDurableLsn,
                                          java.util.function.LongConsumer progress) {
        Path walDir = dir.resolve(WAL_DIR);
        try {
            return WalRecovery.run(env, walDir, dir.resolve(LOST_DIR), mode, knownDurableLsn, true, progress);
        } catch (IOException e) {
            throw StorageException.fromIo("reading the WAL in " + walDir, e);
        }
    }

    // ------------------------------------------------------------------------------------------ appends

    /** Appends with {@link Durability#SYNC}; returns the record's LSN once it is fsynced. */
    public long append(RecordType type, byte[] payload) {
        return append(type, payload, Durability.SYNC);
    }

    public long append(RecordType type, byte[] payload, Durability durability) {
        UnsafeBuffer view = arrayView.get();
        view.wrap(payload);
        return append(type, view, 0, payload.length, durability);
    }

    /**
     * Appends {@code length} bytes of {@code payload} from {@code offset}; returns the record's LSN once it is
     * acknowledged by {@code durability}. The bytes are copied before the call returns. No allocation.
     *
     * @throws IllegalArgumentException if the payload exceeds {@link WalOptions#maxRecordBytes()} (the message
     *                                  names the limit) or the type is {@link RecordType#PADDING}
     * @throws StorageException         {@link ErrorCode#FAILED} after a failed write or fsync ({@link ErrorCode#NO_SPACE}
     *                                  when the disk was full), {@link ErrorCode#CLOSED}
     */
    public long append(RecordType type, DirectBuffer payload, int offset, int length, Durability durability) {
        checkAppend(type, payload, offset, length);
        return writer.append(type, payload, offset, length, durability == Durability.SYNC);
    }

    /**
     * Queues a record without waiting and returns its LSN; pair with {@link #awaitWritten} or
     * {@link #awaitDurable} (pipelining without allocation). The flusher writes it within the flush interval
     * if nobody waits sooner.
     */
    public long appendDeferred(RecordType type, DirectBuffer payload, int offset, int length) {
        checkAppend(type, payload, offset, length);
        return writer.enqueue(type, payload, offset, length, null);
    }

    /** Appends and returns a future completed with the LSN once {@code durability} holds (or exceptionally). */
    public CompletableFuture<Long> appendAsync(RecordType type, byte[] payload, Durability durability) {
        UnsafeBuffer view = new UnsafeBuffer(payload);
        checkAppend(type, view, 0, payload.length);
        CompletableFuture<Long> future = new CompletableFuture<>();
        writer.enqueue(type, view, 0, payload.length, LogWriter.pending(durability == Durability.SYNC, future));
        flusher.wake();
        return future;
    }

    /** Returns once the record at {@code lsn} has been written to the OS (survives kill -9). */
    public void awaitWritten(long lsn) {
        writer.await(lsn, false);
    }

    /** Returns once the record at {@code lsn} has been fsynced (survives a power cut). */
    public void awaitDurable(long lsn) {
        writer.await(lsn, true);
    }

    private void checkAppend(RecordType type, DirectBuffer payload, int offset, int length) {
        if (type == null || type == RecordType.PADDING || type == RecordType.MANIFEST_EDIT) {
            throw new IllegalArgumentException("record type must be WRITE_BATCH, CHECKPOINT or EPOCH_CHANGE, got " + type);
        }
        if (length > options.maxRecordBytes()) {
            throw new IllegalArgumentException("WAL record payload of " + length + " bytes exceeds the limit of "
                    + options.maxRecordBytes() + " bytes (WalOptions.maxRecordBytes)");
        }
        if (offset < 0 || length < 0 || (long) offset + length > payload.capacity()) {
            throw new IllegalArgumentException("payload range [" + offset + ", " + offset + " + " + length
                    + ") is outside the buffer of " + payload.capacity() + " bytes");
        }
    }

    /**
     * A backup's append: the remaining bytes of {@code chunk} (a direct buffer) are whole records a primary's
     * {@link #newRawReader raw reader} returned, starting exactly at this log's {@link #writtenLsn()}. They are
     * written byte for byte at the same LSNs (segments roll where the primary's did), fsynced, and handed to
     * the applier, in that order, before this returns the new end LSN. Every record is checked first:
     * checksum, header fields, LSN equal to its position (no gap, no overlap), epoch never going back, and the
     * segment geometry (both sides must use the same segment size).
     *
     * @throws StorageException {@link ErrorCode#CORRUPTION} when the chunk does not continue this log (nothing
     *                          is written and the log stays usable); {@link ErrorCode#FAILED} after a failed
     *                          write or fsync
     */
    public long appendReplicated(ByteBuffer chunk) {
        try {
            return writer.appendReplicated(chunk);
        } catch (IOException e) {
            throw StorageException.fromIo("writing replicated WAL records", e);
        }
    }

    // ------------------------------------------------------------------------------------------ epochs

    /** The epoch stamped on records appended now. */
    public long epoch() {
        return writer.epoch();
    }

    /**
     * Starts {@code newEpoch}: logs an {@link RecordType#EPOCH_CHANGE} record (SYNC) as the first record of the
     * new epoch and returns its LSN (the fork LSN).
     */
    public long changeEpoch(long newEpoch) {
        try {
            return writer.quiesce(() -> {
                if (newEpoch <= writer.epoch()) {
                    throw new IllegalArgumentException("new epoch " + newEpoch + " must exceed the current epoch "
                            + writer.epoch());
                }
                writer.setEpochQuiesced(newEpoch);
                byte[] payload = ByteBuffer.allocate(Long.BYTES).order(WalRecordDescriptor.ORDER).putLong(newEpoch).array();
                return append(RecordType.EPOCH_CHANGE, payload, Durability.SYNC);
            });
        } catch (IOException e) {
            throw StorageException.fromIo("changing the WAL epoch", e);
        }
    }

    // ------------------------------------------------------------------------------------------ truncation

    /**
     * Deletes every segment that lies wholly below {@code lsn} (after a checkpoint). The active segment is
     * never deleted. Oldest first, then a directory fsync: a crash leaves a log that starts later, never a hole.
     *
     * @return the number of segments deleted
     */
    public int truncateBefore(long lsn) {
        // Needs no lock: appends only ever touch the active segment and later ones, and a segment with a
        // successor below lsn is never active. So a flush can truncate while writers are stalled on it.
        synchronized (truncationLock) {
            try {
                List<Path> segments = WalSegments.list(env, walDir);
                long[] bases = WalSegments.bases(segments);
                long active = writer.activeBase();
                int deleted = 0;
                for (int i = 0; i + 1 < bases.length && bases[i + 1] <= lsn && bases[i] < active; i++) {
                    env.delete(segments.get(i));
                    deleted++;
                    CrashPoints.hit(CrashPoints.WAL_TRUNCATE_AFTER_DELETE);
                }
                if (deleted > 0) {
                    env.syncDirectory(walDir);
                }
                return deleted;
            } catch (IOException e) {
                throw StorageException.fromIo("removing WAL segments below LSN " + lsn, e);
            }
        }
    }

    /**
     * Discards every record at or after {@code lsn}, which must be a record boundary between the log's start
     * and its end (a replica discarding a divergent tail). Later segments are deleted newest first, then the
     * rest of the segment holding {@code lsn} is zeroed and fsynced, so a crash at any step leaves an LSN
     * prefix of the old log and discarded bytes can never be read as live again.
     *
     * @return the number of log bytes discarded
     */
    public long truncateFrom(long lsn) {
        try {
            return writer.quiesce(() -> WalTruncation.truncateFrom(env, walDir, writer, lsn));
        } catch (IOException e) {
            throw StorageException.fromIo("truncating the WAL from LSN " + lsn, e);
        }
    }

    // ------------------------------------------------------------------------------------------ reading, state

    /** A reader from {@code fromLsn} that stops at the written end of this log as it moves. */
    public WalReader newReader(long fromLsn) {
        return WalReader.open(env, walDir, fromLsn, writer::writtenLsn);
    }

    /**
     * A reader from {@code fromLsn} that also returns PADDING records and exposes each record's stored bytes
     * ({@link WalReader#recordBuffer()}): what a primary ships to a backup. Stops at the written end.
     */
    public WalReader newRawReader(long fromLsn) {
        return WalReader.open(env, walDir, fromLsn, writer::writtenLsn, true);
    }

    /**
     * As {@link #newRawReader}, stopping at the durable end instead: every record it returns has been fsynced
     * (what a primary may ship). Kept open, it returns later records as they become durable.
     */
    public WalReader newDurableRawReader(long fromLsn) {
        return WalReader.open(env, walDir, fromLsn, writer::durableLsn, true);
    }

    /**
     * As {@link #newRawReader}, following what is written to the OS even before it is fsynced (the end
     * {@link #shippableLsn}): a primary that ships from it lets the backup's fsync overlap its own. Records past the
     * durable end can be lost in a power cut; whoever ships them must make such a loss detectable (a new epoch
     * at every restart).
     */
    public WalReader newShippableRawReader(long fromLsn) {
        return WalReader.open(env, walDir, fromLsn, writer::shippableLsn, true);
    }

    /** The end of the records written to the OS, fsynced or not ({@link #newShippableRawReader}). */
    public long shippableLsn() {
        return writer.shippableLsn();
    }

    /**
     * Calls {@code listener} each time {@link #shippableLsn} advances, on the writing thread before its fsync: it
     * must be quick and must not append (a primary wakes its senders with it). One listener; a new one replaces it.
     */
    public void onShippable(Runnable listener) {
        writer.onShippable(listener);
    }

    /**
     * The segment file holding {@code lsn}: the one with the largest base LSN at or below it (a position at a
     * segment's end belongs to that segment until the next one exists). Null if no segment starts at or below
     * {@code lsn}.
     */
    public Path segmentContaining(long lsn) {
        try {
            Path found = null;
            for (Path p : WalSegments.list(env, walDir)) {
                if (SegmentFiles.parseSegmentBase(p) <= lsn) {
                    found = p;
                }
            }
            return found;
        } catch (IOException e) {
            throw StorageException.fromIo("listing WAL segments in " + walDir, e);
        }
    }

    /** What opening the log found and dropped. */
    public RecoveryReport recoveryReport() {
        return recoveryReport;
    }

    /** Every byte below this LSN has been written to the OS; the next record starts at or after it. */
    public long writtenLsn() {
        return writer.writtenLsn();
    }

    /** Every byte below this LSN has been fsynced. */
    public long durableLsn() {
        return writer.durableLsn();
    }

    /** First LSN still held (base of the oldest segment). */
    public long startLsn() {
        try {
            List<Path> segments = WalSegments.list(env, walDir);
            return segments.isEmpty() ? 0 : SegmentFiles.parseSegmentBase(segments.get(0));
        } catch (IOException e) {
            throw StorageException.fromIo("listing WAL segments in " + walDir, e);
        }
    }

    public WalStats stats() {
        return writer.stats();
    }

    public Path directory() {
        return walDir;
    }

    /** Writes and fsyncs everything appended, then closes. Appends after this fail with {@link ErrorCode#CLOSED}. */
    @Override
    public void close() {
        try {
            flusher.stop();
            writer.close();
        } catch (IOException e) {
            throw StorageException.fromIo("closing the WAL in " + walDir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(ErrorCode.IO, "interrupted while closing the WAL in " + walDir, e);
        }
    }
}
