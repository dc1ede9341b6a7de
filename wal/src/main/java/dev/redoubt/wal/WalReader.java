package dev.redoubt.wal;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;
import org.agrona.DirectBuffer;

/**
 * Iterates the records of a log from any LSN, across segments, as a flyweight: {@link #next()} moves to the
 * next record and the accessors describe it until the following call. Padding is skipped.
 *
 * <p>The iteration stops with a {@link Status}: {@link Status#END} at the end of the log (zeros, stale bytes
 * of an older log, or the end of the last segment), {@link Status#CORRUPT} at a damaged record, with the
 * segment, offset, LSN and reason. The reader does not decide whether damage is a torn tail; recovery does
 * (see {@link RecoveryMode}).
 *
 * <p>This class is not thread-safe. A reader of a live log stops at the writer's written LSN.
 */
public final class WalReader implements AutoCloseable {

    /** Where an iteration stands. */
    public enum Status {
        /** {@link #next()} returned a record. */
        RECORD,
        /** The end of the log: nothing more to read now. */
        END,
        /** A damaged record at {@link #position()}; see {@link #problem()}. */
        CORRUPT
    }


    private final StorageEnv env;
    private final Path walDir;
    private final LongSupplier limitLsn;
    private final boolean includePadding;
    private SegmentReader segment;
    private long position;
    private Status status = Status.END;
    private String problem;

    private RecordType type;
    private long lsn;
    private long epoch;
    private long durableLsn;
    private int payloadLength;
    private int payloadIndex;
    private DirectBuffer payload;
    private int recordIndex;
    private int recordLength;
    private final PayloadInflater inflater = new PayloadInflater();

    private WalReader(StorageEnv env, Path walDir, long fromLsn, LongSupplier limitLsn, boolean includePadding) {
        this.env = env;
        this.walDir = walDir;
        this.position = fromLsn;
        this.limitLsn = limitLsn;
        this.includePadding = includePadding;
    }

    /** A reader of the log in {@code walDir} (a database's {@code wal/} directory), starting at {@code fromLsn}. */
    public static WalReader open(StorageEnv env, Path walDir, long fromLsn) {
        return open(env, walDir, fromLsn, () -> Long.MAX_VALUE);
    }

    static WalReader open(StorageEnv env, Path walDir, long fromLsn, LongSupplier limitLsn) {
        return open(env, walDir, fromLsn, limitLsn, false);
    }

    /**
     * A reader that also returns PADDING records, for shipping the log byte for byte (replication): see
     * {@link #recordBuffer()}.
     */
    static WalReader open(StorageEnv env, Path walDir, long fromLsn, LongSupplier limitLsn, boolean includePadding) {
        WalReader reader = new WalReader(env, walDir, fromLsn, limitLsn, includePadding);
        try {
            reader.seek(fromLsn);
        } catch (IOException e) {
            throw StorageException.fromIo("opening the WAL in " + walDir + " at LSN " + fromLsn, e);
        }
        return reader;
    }

    private void seek(long fromLsn) throws IOException {
        List<Path> files = WalSegments.list(env, walDir);
        Path containing = null;
        long containingBase = -1;
        for (Path p : files) {
            long base = SegmentFiles.parseSegmentBase(p);
            if (base <= fromLsn) {
                containing = p;
                containingBase = base;
            }
        }
        if (files.isEmpty()) {
            return;
        }
        if (containing == null) {
            long first = SegmentFiles.parseSegmentBase(files.get(0));
            throw new StorageException(ErrorCode.INVALID_STATE, "LSN " + fromLsn
                    + " is no longer in the WAL: the oldest retained segment starts at LSN " + first);
        }
        segment = new SegmentReader(env, containing, containingBase, limitLsn);
    }

    /** Moves to the next record; false at the end of the log or at damage ({@link #status()} tells which). */
    public boolean next() {
        try {
            return advance();
        } catch (IOException e) {
            throw StorageException.fromIo("reading the WAL at LSN " + position, e);
        }
    }

    private boolean advance() throws IOException {
        while (true) {
            problem = null;
            if (segment == null || position >= limitLsn.getAsLong()) {
                status = Status.END;
                return false;
            }
            long offset = position - segment.base;
            SegmentReader.Check check = segment.check(offset);
            switch (check) {
                case VALID -> {
                    int at = segment.recordIndex();
                    int stored = segment.storedLength();
                    byte code = WalRecordDescriptor.typeCode(segment.buffer(), at);
                    recordIndex = at;
                    if (code == RecordType.PADDING.code()) {
                        position += WalRecordDescriptor.HEADER_LENGTH + stored;
                        if (!includePadding) {
                            continue;
                        }
                        loadPadding(at);
                        status = Status.RECORD;
                        return true;
                    }
                    recordLength = WalRecordDescriptor.HEADER_LENGTH + stored;
                    if (!load(at, stored)) {
                        return false;
                    }
                    position += WalRecordDescriptor.HEADER_LENGTH + stored;
                    status = Status.RECORD;
                    return true;
                }
                case SEGMENT_END -> {
                    if (!moveToNextSegment()) {
                        status = Status.END;
                        return false;
                    }
                }
                case ZERO, STALE -> {
                    status = Status.END;
                    return false;
                }
                default -> {
                    problem = segment.problem();
                    status = Status.CORRUPT;
                    return false;
                }
            }
        }
    }

    private boolean moveToNextSegment() throws IOException {
        long nextBase = segment.end();
        Path next = SegmentFiles.segmentPath(walDir, nextBase);
        // An empty segment ends where it starts: it is its own "next"; stop rather than loop.
        if (nextBase == segment.base || !env.exists(next)) {
            return false;
        }
        segment.close();
        segment = new SegmentReader(env, next, nextBase, limitLsn);
        position = nextBase;
        return true;
    }

    private void loadPadding(int at) {
        DirectBuffer b = segment.buffer();
        type = RecordType.PADDING;
        lsn = WalRecordDescriptor.lsn(b, at);
        epoch = WalRecordDescriptor.epoch(b, at);
        durableLsn = WalRecordDescriptor.durableLsn(b, at);
        payload = b;
        payloadIndex = at + WalRecordDescriptor.HEADER_LENGTH;
        payloadLength = 0;
        recordLength = WalRecordDescriptor.HEADER_LENGTH;
    }

    private boolean load(int at, int stored) {
        DirectBuffer b = segment.buffer();
        type = RecordType.fromCode(WalRecordDescriptor.typeCode(b, at));
        lsn = WalRecordDescriptor.lsn(b, at);
        epoch = WalRecordDescriptor.epoch(b, at);
        durableLsn = WalRecordDescriptor.durableLsn(b, at);
        if ((WalRecordDescriptor.flags(b, at) & WalRecordDescriptor.FLAG_LZ4) == 0) {
            payload = b;
            payloadIndex = at + WalRecordDescriptor.HEADER_LENGTH;
            payloadLength = stored;
            return true;
        }
        int raw = WalRecordDescriptor.rawLength(b, at);
        DirectBuffer inflatedPayload = inflater.inflate(b, at + WalRecordDescriptor.HEADER_LENGTH, stored, raw);
        if (inflatedPayload == null) {
            problem = "LZ4 payload does not decompress to its raw length " + raw;
            status = Status.CORRUPT;
            return false;
        }
        payload = inflatedPayload;
        payloadIndex = 0;
        payloadLength = raw;
        return true;
    }

    public Status status() {
        return status;
    }

    /** The LSN the next {@link #next()} reads from; at {@link Status#END} or {@link Status#CORRUPT}, where it stopped. */
    public long position() {
        return position;
    }

    /** At {@link Status#CORRUPT}: what is wrong, with segment file and offset. */
    public String problem() {
        if (problem == null || segment == null) {
            return problem;
        }
        return problem + " in segment " + segment.path.getFileName() + " at offset " + (position - segment.base)
                + " (LSN " + position + ")";
    }

    /** The segment file the reader is in (null before the first segment exists). */
    public Path segmentPath() {
        return segment == null ? null : segment.path;
    }

    public RecordType type() {
        return type;
    }

    public long lsn() {
        return lsn;
    }

    /** The LSN just past this record. */
    public long nextLsn() {
        return position;
    }

    public long epoch() {
        return epoch;
    }

    public long durableLsn() {
        return durableLsn;
    }

    /** The payload (decompressed): bytes {@code [payloadOffset(), payloadOffset() + payloadLength())} of this buffer. */
    public DirectBuffer payload() {
        return payload;
    }

    public int payloadOffset() {
        return payloadIndex;
    }

    public int payloadLength() {
        return payloadLength;
    }

    /**
     * The record as stored (header and stored, possibly compressed, payload): bytes
     * {@code [recordIndex(), recordIndex() + recordLength())} of this buffer, valid until the next call. A
     * PADDING record (returned only by a reader that includes padding) is its 40-byte header alone; its
     * filler, up to {@link #nextLsn()}, is not part of it.
     */
    public DirectBuffer recordBuffer() {
        return segment.buffer();
    }

    public int recordIndex() {
        return recordIndex;
    }

    public int recordLength() {
        return recordLength;
    }

    /** A copy of the payload (allocates; for tools and tests). */
    public byte[] payloadBytes() {
        byte[] copy = new byte[payloadLength];
        payload.getBytes(payloadIndex, copy);
        return copy;
    }

    @Override
    public void close() {
        if (segment != null) {
            try {
                segment.close();
            } catch (IOException ignored) {
                // Read-only handle: nothing to lose.
            }
            segment = null;
        }
        inflater.free();
    }
}
