package dev.redoubt.replication;

/** The frame types of the node protocol; see {@link Frame} for each one's fields. */
public enum FrameType {
    HELLO(1),
    CHALLENGE(2),
    AUTH(3),
    WELCOME(4),
    ERROR(5),
    STREAM_FROM(10),
    WAL_CHUNK(11),
    WAL_CHUNK_LZ4(25),
    ACK(12),
    HEARTBEAT(13),
    DIVERGED(14),
    HISTORY(15),
    FENCE(16),
    CHECKPOINT_BEGIN(17),
    FILE_CHUNK(18),
    FILE_END(19),
    CHECKPOINT_END(22),
    FIND_FORK(23),
    FORK(24),
    REQUEST(20),
    RESPONSE(21);

    private static final FrameType[] BY_CODE = new FrameType[32];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    final int code;

    FrameType(int code) {
        this.code = code;
    }

    /** The type with this code, or null. */
    static FrameType of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
