package dev.redoubt.wal;

/**
 * Options of a {@link Wal}, one validated object (fluent setters; {@link #validate()} runs at open).
 * Every default is written here and nowhere else.
 */
public final class WalOptions {
    /** Default segment size: 64 MiB. */
    public static final int DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
    /** Smallest segment size accepted (tests use small segments to cross many boundaries). */
    public static final int MIN_SEGMENT_BYTES = 4096;
    /** Largest segment size accepted (positions within a segment are ints). */
    public static final int MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
    /** Default bound on one record's payload: 16 MiB. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
    /** Compression off by default: WAL payloads are small and latency matters more than bytes. */
    public static final int COMPRESSION_OFF = -1;
    public static final long DEFAULT_ASYNC_FLUSH_INTERVAL_MILLIS = 20;
    /** The hand-off ring between appenders and the log writer: 2 MiB (records up to 256 KiB go through it). */
    public static final int DEFAULT_RING_BYTES = 2 * 1024 * 1024;

    /** Longest a group-commit leader waits for appenders that are about to join: 100 us, about one fsync. */
    public static final int DEFAULT_GROUP_COMMIT_WAIT_MICROS = 100;

    private int segmentBytes = DEFAULT_SEGMENT_BYTES;
    private int groupCommitWaitMicros = DEFAULT_GROUP_COMMIT_WAIT_MICROS;
    /** -1: the default, {@link #DEFAULT_MAX_RECORD_BYTES} capped to what fits in a segment. */
    private int maxRecordBytes = -1;
    private int compressAboveBytes = COMPRESSION_OFF;
    private long asyncFlushIntervalMillis = DEFAULT_ASYNC_FLUSH_INTERVAL_MILLIS;
    private int ringBytes = DEFAULT_RING_BYTES;
    private RecoveryMode recoveryMode = RecoveryMode.TOLERATE_CORRUPTED_TAIL;
    private boolean preallocateInBackground = true;
    private long knownDurableLsn;

    public static WalOptions defaults() {
        return new WalOptions();
    }

    /** Size of each segment file, preallocated when created. A record (header + payload) must fit in one. */
    public WalOptions segmentBytes(int bytes) {
        this.segmentBytes = bytes;
        return this;
    }

    /** Largest payload an append accepts; larger ones get an {@link IllegalArgumentException} naming this limit. */
    public WalOptions maxRecordBytes(int bytes) {
        this.maxRecordBytes = bytes;
        return this;
    }

    /** LZ4-compress payloads longer than this many bytes ({@link #COMPRESSION_OFF} = never). */
    public WalOptions compressAboveBytes(int bytes) {
        this.compressAboveBytes = bytes;
        return this;
    }

    /** Upper bound on how long an {@code ASYNC} append may stay unsynced: the background flusher's period. */
    public WalOptions asyncFlushIntervalMillis(long millis) {
        this.asyncFlushIntervalMillis = millis;
        return this;
    }

    /** Capacity of the appenders' hand-off ring (a power of two); records above an eighth of it bypass the ring. */
    public WalOptions ringBytes(int bytes) {
        this.ringBytes = bytes;
        return this;
    }

    /** What opening the log may drop when it finds damage; see {@link RecoveryMode}. */
    public WalOptions recoveryMode(RecoveryMode mode) {
        this.recoveryMode = mode;
        return this;
    }

    /** Prepare the next segment on the flusher thread before it is needed (default), not at the roll. */
    public WalOptions preallocateInBackground(boolean enabled) {
        this.preallocateInBackground = enabled;
        return this;
    }

    /**
     * An LSN below which the caller knows every byte of the log had been fsynced (default 0: nothing beyond what the
     * log proves itself). The last records of a log have no later record whose durable LSN proves them acknowledged;
     * the engine records the log's durable end in its manifest at a clean close and passes it here. Recovery then
     * treats damage below it as damage to acknowledged data, and a log that ends below it as acknowledged records
     * missing.
     */
    public WalOptions knownDurableLsn(long lsn) {
        this.knownDurableLsn = lsn;
        return this;
    }

    /**
     * Longest a leader about to fsync waits for other in-flight appenders to enqueue, so one fsync covers them
     * (0 = never wait). A lone appender never waits.
     */
    public WalOptions groupCommitWaitMicros(int micros) {
        this.groupCommitWaitMicros = micros;
        return this;
    }

    public int groupCommitWaitMicros() {
        return groupCommitWaitMicros;
    }

    public int segmentBytes() {
        return segmentBytes;
    }

    /** The effective bound: as set, or by default 16 MiB capped to what fits in one segment. */
    public int maxRecordBytes() {
        if (maxRecordBytes == -1) {
            return Math.min(DEFAULT_MAX_RECORD_BYTES, segmentBytes - WalRecordDescriptor.HEADER_LENGTH);
        }
        return maxRecordBytes;
    }

    public int compressAboveBytes() {
        return compressAboveBytes;
    }

    public long asyncFlushIntervalMillis() {
        return asyncFlushIntervalMillis;
    }

    public int ringBytes() {
        return ringBytes;
    }

    public RecoveryMode recoveryMode() {
        return recoveryMode;
    }

    public boolean preallocateInBackground() {
        return preallocateInBackground;
    }

    public long knownDurableLsn() {
        return knownDurableLsn;
    }

    /** Checks every option and the relations between them; the message names the option and the fix. */
    public WalOptions validate() {
        if (segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) {
            throw new IllegalArgumentException("segmentBytes must be between " + MIN_SEGMENT_BYTES + " and "
                    + MAX_SEGMENT_BYTES + ", got " + segmentBytes);
        }
        int maxRecordBytes = maxRecordBytes();
        if (maxRecordBytes < 0 || maxRecordBytes > WalRecordDescriptor.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("maxRecordBytes must be between 0 and "
                    + WalRecordDescriptor.MAX_PAYLOAD_BYTES + ", got " + maxRecordBytes);
        }
        if ((long) maxRecordBytes + WalRecordDescriptor.HEADER_LENGTH > segmentBytes) {
            throw new IllegalArgumentException("maxRecordBytes (" + maxRecordBytes + ") + the "
                    + WalRecordDescriptor.HEADER_LENGTH + "-byte header must fit in one segment (segmentBytes "
                    + segmentBytes + "): raise segmentBytes or lower maxRecordBytes");
        }
        if (compressAboveBytes < COMPRESSION_OFF) {
            throw new IllegalArgumentException("compressAboveBytes must be >= 0, or COMPRESSION_OFF (-1)");
        }
        if (asyncFlushIntervalMillis < 1 || asyncFlushIntervalMillis > 60_000) {
            throw new IllegalArgumentException("asyncFlushIntervalMillis must be between 1 and 60000, got "
                    + asyncFlushIntervalMillis);
        }
        if (Integer.bitCount(ringBytes) != 1 || ringBytes < 64 * 1024) {
            throw new IllegalArgumentException("ringBytes must be a power of two >= 65536, got " + ringBytes);
        }
        if (groupCommitWaitMicros < 0 || groupCommitWaitMicros > 100_000) {
            throw new IllegalArgumentException("groupCommitWaitMicros must be between 0 and 100000, got "
                    + groupCommitWaitMicros);
        }
        if (knownDurableLsn < 0) {
            throw new IllegalArgumentException("knownDurableLsn must be >= 0, got " + knownDurableLsn);
        }
        if (recoveryMode == null) {
            throw new IllegalArgumentException("recoveryMode must not be null");
        }
        return this;
    }
}
