package dev.redoubt.wal;

/** The type byte of a WAL record (see {@link WalRecordDescriptor}). Codes are on disk: never renumber. */
public enum RecordType {
    /** An atomic batch of key-value operations (the engine's payload). */
    WRITE_BATCH((byte) 1),
    /** The engine's checkpoint marker: every change below the LSN it names is in tables. */
    CHECKPOINT((byte) 2),
    /** The writer's epoch changed (promotion); payload = the new epoch as 8 bytes, little-endian. */
    EPOCH_CHANGE((byte) 3),
    /** Filler to the end of a segment; the reader skips it. Never returned to callers. */
    PADDING((byte) 4),
    /**
     * A record of a {@link RecordFile} (the engine's manifest edits); never in a WAL. Record files written before
     * this type existed (format 1) framed their records as {@link #CHECKPOINT}, and are still read.
     */
    MANIFEST_EDIT((byte) 5);

    private static final RecordType[] BY_CODE = new RecordType[6];

    static {
        for (RecordType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final byte code;

    RecordType(byte code) {
        this.code = code;
    }

    public byte code() {
        return code;
    }

    /** The type with this code, or null if the code is unknown (corruption or a newer format). */
    public static RecordType fromCode(byte code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
