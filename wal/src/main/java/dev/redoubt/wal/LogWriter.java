package dev.redoubt.wal;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The write path with group commit (LevelDB's writer queue, with an Agrona ring as the queue).
 *
 * <p>An appender, holding {@code reserveLock} only long enough to take the next LSN and claim ring space in
 * the same order, then (outside the lock) serializes the complete record (header, payload, CRC32C) into its
 * claimed slot of the off-heap ring and commits it. To be acknowledged it waits for the written or durable
 * LSN to pass its own. Whoever finds {@code writeLock} free becomes the <em>leader</em>: it drains every
 * committed record from the ring into one staging buffer, issues one write, and one fsync if any waiter (or
 * future) needs durability, then wakes the waiters. Appenders that arrived meanwhile are covered by the next
 * leader's single write + fsync: that is the group commit. A single appender never hands off to another
 * thread, so an uncontended {@code SYNC} append costs one write + one fsync.
 *
 * <p>Invariants:
 * <ul>
 *   <li>Ring order is LSN order (claims are taken under {@code reserveLock} with the LSN).</li>
 *   <li>{@code writtenLsn} and {@code durableLsn} only grow, and always fall on a record boundary.</li>
 *   <li>A {@code SYNC} caller returns only after an fsync that covered its record returned.</li>
 *   <li>After the first failed write or fsync nothing is acknowledged again: every waiter and every later
 *       append fails with {@link ErrorCode#FAILED} ({@link ErrorCode#NO_SPACE} if the disk was full);
 *       recovery decides from disk on reopen.</li>
 * </ul>
 *
 * <p>Thread-safety: all public methods may be called from any thread. Fields marked "leader" require
 * {@code writeLock}; fields marked "reserve" require {@code reserveLock}.
 */
final class LogWriter implements AutoCloseable {
    static final int MSG_RECORD = 1;
    private static final int MAX_MESSAGES_PER_READ = 4096;
    private static final int MAX_READS_PER_CYCLE = 16;
    private static final int STAGING_BYTES = 1024 * 1024;
    private static final int SPINS_BEFORE_PARK = 20;
    private static final int MAX_PENDING_FUTURES = 1 << 16;

    private final WalOptions options;
    private final long groupCommitWaitNanos;
    private final SegmentAllocator allocator;
    private final ManyToOneRingBuffer ring;
    private final Object reserveLock = new Object();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final CommitWaiters waiters = new CommitWaiters(new CommitWaiters.LogProgress() {
        @Override
        public boolean reached(long lsn, boolean durable) {
            return LogWriter.this.reached(lsn, durable);
        }

        @Override
        public boolean failed() {
            return failure != null;
        }

        @Override
        public boolean leading() {
            return writeLock.isLocked();
        }
    });
    private final AtomicLong requestedDurableLsn = new AtomicLong();
    /** Threads between the start of an append and its acknowledgement: who could still join a group. */
    private final AtomicInteger appendersInFlight = new AtomicInteger();
    private final ManyToOneConcurrentArrayQueue<PendingAppend> futures =
            new ManyToOneConcurrentArrayQueue<>(MAX_PENDING_FUTURES);
    private final ControlledMessageHandler copyToStaging = this::copyToStaging;
    private final RecordApplier applier;
    private final PayloadInflater inflater = new PayloadInflater();
    private final ReplicaChunkCheck replicaCheck;
    private final CRC32C leaderCrc = new CRC32C();

    // reserve: the LSN the next record gets, and the end of the segment it must fit in.
    /** Records enqueued so far; written under reserveLock, read by the leader to see what is pending. */
    private volatile long recordsEnqueued;
    private long reserveLsn;
    private long reserveSegmentEnd;
    /** Written only with both locks held (quiesce); read by the leader without reserveLock. */
    private volatile long epoch;

    // leader: the open segment and the staging buffer.
    private StorageFile activeFile;
    private volatile long activeBase;
    private long activeEnd;
    private long position;
    private final ByteBuffer staging;
    private final ByteBuffer stagingView;
    private final UnsafeBuffer stagingBuffer;
    private int stagingLength;
    /** The group being drained is complete (staging full, or the next record starts a new segment). */
    private boolean stagingClosed;
    private long stagingLsn;
    private long recordsWritten;
    private long writes;
    private long fsyncs;

    private volatile long writtenLsn;
    /**
     * The end of what is written to the OS, published by the leader before its fsync (so never below
     * {@link #writtenLsn}, which waits for the fsync and the apply): what a primary may ship to a backup so that
     * the two fsyncs overlap.
     */
    private volatile long shippableLsn;
    /** Told (on the leader thread, before its fsync) each time {@link #shippableLsn} advanced. */
    private volatile Runnable onShippable = () -> { };
    private volatile long durableLsn;
    private volatile long activeEndPublished;
    private volatile Throwable failure;
    private volatile boolean closed;

    /**
     * One appender thread's reusable buffers: no allocation per append. Static and shared by every log, so
     * that a thread that appended to a closed log does not keep the log reachable (a ThreadLocal's value
     * must not point back at its owner).
     */
    private static final class AppenderScratch {
        final CRC32C crc = new CRC32C();
        final LZ4Compressor compressor = LZ4Factory.fastestInstance().fastCompressor();
        ByteBuffer compressed = ByteBuffer.allocateDirect(0);
        final UnsafeBuffer compressedView = new UnsafeBuffer(0, 0);
        /** A view of the last ring this thread appended to; replaced when it appends to another log. */
        ByteBuffer ringSource;
        ByteBuffer ringView;

        ByteBuffer ringView(ByteBuffer ring) {
            if (ringSource != ring) {
                ringSource = ring;
                ringView = ring.duplicate();
            }
            return ringView;
        }
    }

    private static final ThreadLocal<AppenderScratch> SCRATCH = ThreadLocal.withInitial(AppenderScratch::new);

    /** An append whose completion is reported through a future (the pipelining form). */
    record PendingAppend(long lsn, boolean durable, CompletableFuture<Long> future) {
    }

    /** A future waiting to be enqueued (its LSN is filled in under the reserve lock). */
    static PendingAppend pending(boolean durable, CompletableFuture<Long> future) {
        return new PendingAppend(-1, durable, future);
    }

    LogWriter(WalOptions options, SegmentAllocator allocator, StorageFile activeFile, long activeBase,
              long activeEnd, long position, long epoch, RecordApplier applier) {
        this.options = options;
        this.applier = applier;
        this.groupCommitWaitNanos = options.groupCommitWaitMicros() * 1000L;
        this.allocator = allocator;
        this.replicaCheck = new ReplicaChunkCheck(allocator.segmentBytes(), inflater);
        this.ring = new ManyToOneRingBuffer(new UnsafeBuffer(
                ByteBuffer.allocateDirect(options.ringBytes() + RingBufferDescriptor.TRAILER_LENGTH)));
        // A group always fits a ring message, so every record can be staged.
        this.staging = ByteBuffer.allocateDirect(Math.max(STAGING_BYTES, ring.maxMsgLength()))
                .order(WalRecordDescriptor.ORDER);
        this.stagingView = staging.duplicate();
        this.stagingBuffer = new UnsafeBuffer(staging);
        this.activeFile = activeFile;
        this.activeBase = activeBase;
        this.activeEnd = activeEnd;
        this.activeEndPublished = activeEnd;
        this.position = position;
        this.stagingLsn = position;
        this.writtenLsn = position;
        this.shippableLsn = position;
        this.durableLsn = position;
        this.reserveLsn = position;
        this.reserveSegmentEnd = activeEnd;
        this.epoch = epoch;
    }

    // ------------------------------------------------------------------------------------------ appenders

    /** Serializes a record into the ring and returns its LSN; the record is not yet written. */
    long enqueue(RecordType type, DirectBuffer src, int offset, int length, PendingAppend future) {
        checkWritable();
        AppenderScratch s = SCRATCH.get();
        DirectBuffer payload = src;
        int payloadOffset = offset;
        int stored = length;
        int flags = 0;
        int threshold = options.compressAboveBytes();
        if (threshold != WalOptions.COMPRESSION_OFF && length > threshold) {
            int n = compress(s, src, offset, length);
            if (n < length) {
                payload = s.compressedView;
                payloadOffset = 0;
                stored = n;
                flags = WalRecordDescriptor.FLAG_LZ4;
            }
        }
        int recordLength = WalRecordDescriptor.HEADER_LENGTH + stored;
        if (recordLength > ring.maxMsgLength()) {
            return enqueueLarge(type, payload, payloadOffset, stored, length, flags, future);
        }
        long lsn;
        long recordEpoch;
        int index;
        synchronized (reserveLock) {
            checkWritable();
            lsn = reserve(recordLength);
            while ((index = ring.tryClaim(MSG_RECORD, recordLength)) <= 0) {
                helpDrain();
            }
            reserveLsn = lsn + recordLength;
            recordsEnqueued++;
            recordEpoch = epoch;
            if (future != null) {
                offerFuture(new PendingAppend(lsn, future.durable, future.future));
            }
        }
        try {
            MutableDirectBuffer rb = ring.buffer();
            WalRecordDescriptor.writeRecord(rb, s.ringView(rb.byteBuffer()), s.crc, index, type, flags, payload,
                    payloadOffset, stored, length, lsn, recordEpoch, durableLsn);
            ring.commit(index);
        } catch (RuntimeException | Error e) {
            // The LSN is taken: without this record the log would have a hole, so the log fails.
            ring.abort(index);
            fail(e);
            throw e;
        }
        return lsn;
    }

    /** REQUIRES reserveLock. The LSN for a record of this length: the next one, or the next segment's base. */
    private long reserve(int recordLength) {
        long lsn = reserveLsn;
        if (lsn + recordLength > reserveSegmentEnd) {
            lsn = reserveSegmentEnd;
            reserveSegmentEnd += options.segmentBytes();
        }
        return lsn;
    }

    /** REQUIRES reserveLock. */
    private void offerFuture(PendingAppend pending) {
        while (!futures.offer(pending)) {
            helpDrain();
        }
        if (failure != null) {
            // A leader failed between our check and the offer and may have drained the queue already.
            failPendingFutures();
        }
    }

    private void failPendingFutures() {
        PendingAppend head;
        while ((head = futures.poll()) != null) {
            head.future.completeExceptionally(failedException());
        }
    }

    private int compress(AppenderScratch s, DirectBuffer src, int offset, int length) {
        int max = s.compressor.maxCompressedLength(length);
        if (s.compressed.capacity() < max) {
            s.compressed = ByteBuffer.allocateDirect(max);
        }
        ByteBuffer in = src.byteBuffer();
        int n;
        if (in != null && in.isDirect()) {
            int inOffset = (int) (src.wrapAdjustment()) + offset;
            n = s.compressor.compress(in, inOffset, length, s.compressed, 0, max);
        } else {
            byte[] array = src.byteArray();
            if (array != null) {
                n = s.compressor.compress(ByteBuffer.wrap(array), (int) src.wrapAdjustment() + offset, length,
                        s.compressed, 0, max);
            } else {
                byte[] copy = new byte[length];
                src.getBytes(offset, copy);
                n = s.compressor.compress(ByteBuffer.wrap(copy), 0, length, s.compressed, 0, max);
            }
        }
        s.compressedView.wrap(s.compressed, 0, n);
        return n;
    }

    /**
     * Records too large for the ring are written by the appender itself, as leader, with the ring drained
     * first so that LSN order holds. Rare (above an eighth of the ring); allocates.
     */
    private long enqueueLarge(RecordType type, DirectBuffer payload, int offset, int stored, int rawLength,
                              int flags, PendingAppend future) {
        int recordLength = WalRecordDescriptor.HEADER_LENGTH + stored;
        ByteBuffer record = ByteBuffer.allocateDirect(recordLength).order(WalRecordDescriptor.ORDER);
        UnsafeBuffer b = new UnsafeBuffer(record);
        synchronized (reserveLock) {
            checkWritable();
            writeLock.lock();
            try {
                while (ring.size() > 0 && failure == null) {
                    leaderCycle(false);
                }
                checkWritable();
                long lsn = reserve(recordLength);
                reserveLsn = lsn + recordLength;
                recordsEnqueued++;
                WalRecordDescriptor.writeRecord(b, record.duplicate(), new CRC32C(), 0, type, flags, payload, offset,
                        stored, rawLength, lsn, epoch, durableLsn);
                if (future != null) {
                    offerFuture(new PendingAppend(lsn, future.durable, future.future));
                }
                writeDirect(lsn, b, recordLength);
                return lsn;
            } finally {
                writeLock.unlock();
                waiters.wake();
            }
        }
    }

    /**
     * Appends a record and returns its LSN once it is written ({@code durable} false) or fsynced (true). While
     * it runs, the calling thread counts as an appender that may still join the next group (see
     * {@link #gatherGroup}).
     */
    long append(RecordType type, DirectBuffer src, int offset, int length, boolean durable) {
        appendersInFlight.incrementAndGet();
        try {
            long lsn = enqueue(type, src, offset, length, null);
            await(lsn, durable);
            return lsn;
        } finally {
            appendersInFlight.decrementAndGet();
        }
    }

    /** Waits until the record at {@code lsn} is written ({@code durable} false) or fsynced (true). */
    void await(long lsn, boolean durable) {
        if (durable) {
            requestedDurableLsn.accumulateAndGet(lsn + 1, Math::max);
        }
        int spins = 0;
        while (!reached(lsn, durable)) {
            checkFailed();
            if (writeLock.tryLock()) {
                try {
                    if (!reached(lsn, durable)) {
                        if (durable) {
                            gatherGroup();
                        }
                        leaderCycle(false);
                    }
                } finally {
                    writeLock.unlock();
                }
                waiters.wake();
                continue;
            }
            if (spins++ < SPINS_BEFORE_PARK) {
                Thread.onSpinWait();
                continue;
            }
            waiters.parkUntilWoken(lsn, durable);
        }
    }

    private boolean reached(long lsn, boolean durable) {
        return (durable ? durableLsn : writtenLsn) > lsn;
    }

    /** With the ring full: drain it if nobody else is leading, else give the leader the core. */
    private void helpDrain() {
        checkWritable();
        if (writeLock.tryLock()) {
            try {
                leaderCycle(false);
            } finally {
                writeLock.unlock();
            }
            waiters.wake();
        } else {
            Thread.yield();
        }
    }

    // ------------------------------------------------------------------------------------------ leader

    /**
     * REQUIRES writeLock. Before an fsync, gives appenders that are about to enqueue a moment to join the group
     * (PostgreSQL's {@code commit_delay}, bounded by {@link WalOptions#groupCommitWaitMicros()}): only while
     * more appenders are in flight than records are pending, so a lone appender never waits. On a machine with
     * fewer cores than writers, appenders woken by the previous fsync are often not yet running when the next
     * leader starts; without this the groups stay small and the fsync rate, not the writers, sets throughput.
     */
    private void gatherGroup() {
        if (groupCommitWaitNanos == 0) {
            return;
        }
        long deadline = 0;
        while (recordsEnqueued - recordsWritten < appendersInFlight.get()) {
            long now = System.nanoTime();
            if (deadline == 0) {
                deadline = now + groupCommitWaitNanos;
            } else if (now - deadline > 0) {
                return;
            }
            Thread.yield();
        }
    }

    /**
     * REQUIRES writeLock. One group: drains committed records from the ring into the staging buffer (up to its
     * capacity, and never across a segment roll), writes them with one call, fsyncs if a waiter needs it (or
     * {@code forceAll}), hands each record to the {@link RecordApplier}, and only then publishes the written and
     * durable LSNs and completes due futures: nobody is acknowledged before the applier has seen the record.
     */
    void leaderCycle(boolean forceAll) {
        assert writeLock.isHeldByCurrentThread();
        if (failure != null) {
            return;
        }
        try {
            stagingClosed = false;
            for (int reads = 0; reads < MAX_READS_PER_CYCLE && !stagingClosed; reads++) {
                if (ring.controlledRead(copyToStaging, MAX_MESSAGES_PER_READ) == 0) {
                    break;
                }
            }
            writeStaging();
            long written = position;
            if (written > shippableLsn) {
                shippableLsn = written;
                onShippable.run();
            }
            boolean force = written > durableLsn && (forceAll || requestedDurableLsn.get() > durableLsn);
            if (force) {
                CrashPoints.hit(CrashPoints.WAL_BEFORE_FSYNC);
                activeFile.force();
                fsyncs++;
                CrashPoints.hit(CrashPoints.WAL_AFTER_FSYNC);
            }
            applyStaged();
            writtenLsn = written;
            if (force) {
                durableLsn = written;
            }
            completeFutures();
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    /** Ring handler: copies one record into staging, or stops the group (ABORT leaves it in the ring). */
    private ControlledMessageHandler.Action copyToStaging(int msgTypeId, MutableDirectBuffer buffer, int index,
                                                          int length) {
        try {
            long lsn = WalRecordDescriptor.lsn(buffer, index);
            if (lsn >= activeEnd) {
                if (stagingLength > 0) {
                    stagingClosed = true; // finish and apply this group in its own segment first
                    return ControlledMessageHandler.Action.ABORT;
                }
                roll(lsn);
            }
            if (stagingLength + length > staging.capacity()) {
                stagingClosed = true;
                return ControlledMessageHandler.Action.ABORT;
            }
            if (lsn != position) {
                throw new IllegalStateException("WAL record of LSN " + lsn + " arrived at position " + position);
            }
            if (stagingLength == 0) {
                stagingLsn = position;
            }
            stagingBuffer.putBytes(stagingLength, buffer, index, length);
            stagingLength += length;
            position += length;
            recordsWritten++;
            return ControlledMessageHandler.Action.CONTINUE;
        } catch (IOException e) {
            throw new WriteFailure(e);
        }
    }

    /** Carries an IOException out of the ring's message handler. */
    private static final class WriteFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        WriteFailure(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Writes the staged group with one call; the bytes stay staged until {@link #applyStaged()}. */
    private void writeStaging() throws IOException {
        if (stagingLength == 0) {
            return;
        }
        stagingView.clear();
        stagingView.limit(stagingLength);
        CrashPoints.hit(CrashPoints.WAL_BEFORE_WRITE);
        activeFile.write(stagingLsn - activeBase, stagingView);
        writes++;
    }

    private void applyStaged() {
        for (int at = 0; at < stagingLength; ) {
            at += applyRecord(stagingBuffer, at);
        }
        stagingLength = 0;
    }

    /** Hands the record at {@code at} to the applier (decompressing if needed); returns the record's length. */
    private int applyRecord(DirectBuffer b, int at) {
        int stored = WalRecordDescriptor.storedLength(b, at);
        RecordType type = RecordType.fromCode(WalRecordDescriptor.typeCode(b, at));
        if (applier != RecordApplier.NONE && type != RecordType.PADDING) {
            long lsn = WalRecordDescriptor.lsn(b, at);
            int payloadAt = at + WalRecordDescriptor.HEADER_LENGTH;
            if ((WalRecordDescriptor.flags(b, at) & WalRecordDescriptor.FLAG_LZ4) == 0) {
                applier.apply(type, lsn, lsn + WalRecordDescriptor.HEADER_LENGTH + stored, b, payloadAt, stored);
            } else {
                int raw = WalRecordDescriptor.rawLength(b, at);
                DirectBuffer payload = inflater.inflate(b, payloadAt, stored, raw);
                if (payload == null) {
                    throw new IllegalStateException("LZ4 payload of LSN " + lsn + " does not inflate to " + raw + " bytes");
                }
                applier.apply(type, lsn, lsn + WalRecordDescriptor.HEADER_LENGTH + stored, payload, 0, raw);
            }
        }
        return WalRecordDescriptor.HEADER_LENGTH + stored;
    }

    /**
     * REQUIRES writeLock and an empty staging buffer. Writes one complete record straight to the segment (the
     * large-record path) and fsyncs it, so that it, too, reaches the applier only once durable.
     */
    private void writeDirect(long lsn, UnsafeBuffer record, int length) {
        try {
            if (lsn >= activeEnd) {
                roll(lsn);
            }
            ByteBuffer bb = record.byteBuffer().duplicate();
            bb.clear();
            bb.limit(length);
            activeFile.write(lsn - activeBase, bb);
            writes++;
            recordsWritten++;
            activeFile.force();
            fsyncs++;
            position = lsn + length;
            applyRecord(record, 0);
            writtenLsn = position;
            shippableLsn = position;
            durableLsn = position;
        } catch (IOException | RuntimeException e) {
            fail(e);
            throw failedException();
        }
    }

    /**
     * REQUIRES writeLock and an empty staging buffer (everything before was written, applied and published).
     * Finishes the active segment (padding, fsync) and moves to the segment at {@code nextBase}. Forcing here
     * keeps "durable LSN" a single number across segments.
     */
    private void roll(long nextBase) throws IOException {
        if (nextBase != activeEnd || stagingLength != 0) {
            throw new IllegalStateException("WAL roll to LSN " + nextBase + " but the active segment ends at "
                    + activeEnd + " with " + stagingLength + " bytes staged");
        }
        int left = (int) (activeEnd - position);
        if (left >= WalRecordDescriptor.HEADER_LENGTH) {
            stagingBuffer.setMemory(0, WalRecordDescriptor.HEADER_LENGTH, (byte) 0);
            WalRecordDescriptor.writePadding(stagingBuffer, stagingView, leaderCrc, 0, position,
                    left - WalRecordDescriptor.HEADER_LENGTH, epoch, durableLsn);
            stagingView.clear();
            stagingView.limit(WalRecordDescriptor.HEADER_LENGTH);
            activeFile.write(position - activeBase, stagingView);
        }
        activeFile.force();
        fsyncs++;
        activeFile.close();
        position = activeEnd;
        writtenLsn = position;
        shippableLsn = position;
        durableLsn = position;
        activeFile = allocator.take(nextBase);
        activeBase = nextBase;
        activeEnd = nextBase + allocator.segmentBytes();
        activeEndPublished = activeEnd;
    }

    private void completeFutures() {
        PendingAppend head;
        while ((head = futures.peek()) != null && reached(head.lsn, head.durable)) {
            futures.poll();
            head.future.complete(head.lsn);
        }
    }

    private void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        failPendingFutures();
        waiters.wake();
    }

    // ------------------------------------------------------------------------------------------ replica

    /**
     * A backup's append: writes records a primary wrote, byte for byte at the same LSNs, then fsyncs them and
     * hands them to the applier, as a leader does for its own group. {@code chunk}'s remaining bytes are whole
     * records in LSN order starting at this log's written end; a PADDING record is sent as its header only
     * (its filler is preallocated zeros on both sides). Every record is checked (checksum, fields, LSN equal to
     * its position, epoch never going back, segment geometry) before a byte is written, so a damaged or
     * discontinuous chunk changes nothing. Returns the new end LSN.
     */
    long appendReplicated(ByteBuffer chunk) throws IOException {
        synchronized (reserveLock) {
            writeLock.lock();
            try {
                checkWritable();
                if (!chunk.isDirect()) {
                    throw new IllegalArgumentException("a replicated chunk must be a direct ByteBuffer");
                }
                if (ring.size() > 0 || recordsEnqueued != recordsWritten) {
                    throw new StorageException(ErrorCode.INVALID_STATE,
                            "a replica log received a primary's records while it has local appends in flight");
                }
            } catch (RuntimeException e) {
                writeLock.unlock();
                throw e;
            }
            try {
                UnsafeBuffer records = new UnsafeBuffer(chunk);
                ByteBuffer view = chunk.duplicate();
                long lastEpoch = replicaCheck.check(records, view, chunk.position(), chunk.limit(), position, activeEnd,
                        epoch);
                writeReplicated(records, view, chunk.position(), chunk.limit());
                activeFile.force();
                fsyncs++;
                for (int at = chunk.position(); at < chunk.limit(); ) {
                    boolean padding = WalRecordDescriptor.typeCode(records, at) == RecordType.PADDING.code();
                    int length = applyRecord(records, at);
                    recordsWritten++;
                    recordsEnqueued++;
                    at += padding ? WalRecordDescriptor.HEADER_LENGTH : length;
                }
                epoch = lastEpoch;
                reserveLsn = position;
                reserveSegmentEnd = activeEnd;
                writtenLsn = position;
                shippableLsn = position;
                durableLsn = position;
                return position;
            } catch (IOException | RuntimeException e) {
                if (!(e instanceof ReplicaChunkCheck.RejectedChunkException)) {
                    fail(e);
                }
                throw e;
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Writes a validated chunk: contiguous runs with one call each, rolling segments where the primary did. */
    private void writeReplicated(UnsafeBuffer b, ByteBuffer view, int from, int to) throws IOException {
        int runStart = from;
        long runLsn = position;
        for (int at = from; at < to; ) {
            long lsn = WalRecordDescriptor.lsn(b, at);
            if (lsn >= activeEnd) {
                writeRun(view, runStart, at, runLsn);
                roll(lsn);
                runStart = at;
                runLsn = lsn;
            }
            int stored = WalRecordDescriptor.storedLength(b, at);
            if (WalRecordDescriptor.typeCode(b, at) == RecordType.PADDING.code()) {
                at += WalRecordDescriptor.HEADER_LENGTH;
                writeRun(view, runStart, at, runLsn);
                position = lsn + WalRecordDescriptor.HEADER_LENGTH + stored;
                runStart = at;
                runLsn = position;
            } else {
                at += WalRecordDescriptor.HEADER_LENGTH + stored;
                position = lsn + WalRecordDescriptor.HEADER_LENGTH + stored;
            }
        }
        writeRun(view, runStart, to, runLsn);
    }

    private void writeRun(ByteBuffer view, int from, int to, long lsn) throws IOException {
        if (to > from) {
            view.clear();
            view.position(from);
            view.limit(to);
            CrashPoints.hit(CrashPoints.WAL_BEFORE_WRITE);
            activeFile.write(lsn - activeBase, view);
            writes++;
        }
    }

    // ------------------------------------------------------------------------------------------ flusher

    /** Called by the flusher thread every interval: writes and fsyncs whatever is pending. */
    void backgroundFlush() {
        if (failure != null) {
            return;
        }
        writeLock.lock();
        try {
            leaderCycle(true);
        } finally {
            writeLock.unlock();
        }
        waiters.wake();
    }

    /** Prepares the next segment once the active one is half full. Flusher thread, outside writeLock. */
    void prepareNextSegmentIfDue() throws IOException {
        if (failure != null) {
            return; // a failed log never rolls again; retrying would only churn a full disk and the log
        }
        long end = activeEndPublished;
        long half = end - allocator.segmentBytes() / 2;
        if (writtenLsn >= half && !allocator.isPrepared(end)) {
            allocator.prepare(end);
        }
    }

    // ------------------------------------------------------------------------------------------ control

    /** Drains everything queued, fsyncs it, and runs {@code action} with both locks held (no appends meanwhile). */
    <T> T quiesce(QuiescedAction<T> action) throws IOException {
        synchronized (reserveLock) {
            writeLock.lock();
            try {
                while ((ring.size() > 0 || position > durableLsn) && failure == null) {
                    leaderCycle(true);
                }
                checkFailed();
                return action.run();
            } finally {
                writeLock.unlock();
                waiters.wake();
            }
        }
    }

    /** Work done while the log is quiesced. */
    interface QuiescedAction<T> {
        T run() throws IOException;
    }

    /** REQUIRES both locks (inside {@link #quiesce}). Moves the write position, after a truncation. */
    void resetTo(StorageFile file, long base, long end, long lsn) throws IOException {
        if (activeFile != file) {
            activeFile.close();
        }
        activeFile = file;
        activeBase = base;
        activeEnd = end;
        activeEndPublished = end;
        position = lsn;
        stagingLength = 0;
        stagingLsn = lsn;
        writtenLsn = lsn;
        shippableLsn = lsn;
        durableLsn = lsn;
        reserveLsn = lsn;
        reserveSegmentEnd = end;
        allocator.discardReady();
    }

    /** REQUIRES reserveLock via {@link #quiesce}: sets the epoch stamped on later records. */
    void setEpochQuiesced(long newEpoch) {
        epoch = newEpoch;
    }

    long epoch() {
        synchronized (reserveLock) {
            return epoch;
        }
    }

    long activeBase() {
        return activeBase;
    }

    StorageFile activeFile() {
        return activeFile;
    }

    long writtenLsn() {
        return writtenLsn;
    }

    long durableLsn() {
        return durableLsn;
    }

    long shippableLsn() {
        return shippableLsn;
    }

    void onShippable(Runnable listener) {
        onShippable = listener;
    }

    WalStats stats() {
        writeLock.lock();
        try {
            return new WalStats(writtenLsn, durableLsn, recordsWritten, writes, fsyncs, failure != null);
        } finally {
            writeLock.unlock();
        }
    }

    void checkWritable() {
        if (closed) {
            throw new StorageException(ErrorCode.CLOSED, "the WAL is closed");
        }
        checkFailed();
    }

    private void checkFailed() {
        if (failure != null) {
            throw failedException();
        }
    }

    private StorageException failedException() {
        Throwable cause = failure instanceof WriteFailure ? failure.getCause() : failure;
        String what = cause instanceof IOException io
                ? StorageException.fromIo("a WAL write or fsync failed", io).getMessage()
                : "the WAL writer failed: " + cause;
        // A full disk keeps its own code: the caller's fix (free space, then reopen) differs from other failures.
        ErrorCode code = StorageException.isNoSpace(cause) ? ErrorCode.NO_SPACE : ErrorCode.FAILED;
        return new StorageException(code, (what.endsWith(".") ? what : what + ".") + " The log accepts no further"
                + " writes and acknowledges nothing written after the failure; close and reopen it (recovery decides"
                + " from disk)", cause);
    }

    /** Drains, fsyncs and closes the active segment; later appends fail with {@link ErrorCode#CLOSED}. */
    @Override
    public void close() throws IOException {
        synchronized (reserveLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        writeLock.lock();
        try {
            while (ring.size() > 0 && failure == null) {
                leaderCycle(true);
            }
            leaderCycle(true);
            if (failure != null) {
                failPendingFutures();
            }
            activeFile.close();
            allocator.discardReady();
        } finally {
            writeLock.unlock();
            waiters.wake();
        }
        // Off-heap memory is returned now rather than whenever the GC finds the buffers.
        BufferUtil.free(ring.buffer().byteBuffer());
        BufferUtil.free(staging);
        inflater.free();
    }
}
