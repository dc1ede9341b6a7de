package dev.redoubt.wal;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;

/** Damage that the recovery mode in force may not drop: the log refuses to open and says where and why. */
public final class WalCorruptionException extends StorageException {
    private static final long serialVersionUID = 1L;

    private final String segment;
    private final long offset;
    private final long lsn;
    private final boolean provenDurable;

    WalCorruptionException(String message, String segment, long offset, long lsn, boolean provenDurable) {
        super(ErrorCode.CORRUPTION, message);
        this.segment = segment;
        this.offset = offset;
        this.lsn = lsn;
        this.provenDurable = provenDurable;
    }

    /** File name of the segment holding the damage. */
    public String segment() {
        return segment;
    }

    public long offset() {
        return offset;
    }

    public long lsn() {
        return lsn;
    }

    /** Whether a later record proves the damaged bytes had been fsynced (acknowledged data). */
    public boolean provenDurable() {
        return provenDurable;
    }
}
