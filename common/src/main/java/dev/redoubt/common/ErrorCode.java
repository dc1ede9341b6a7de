package dev.redoubt.common;

/** What kind of storage failure a {@link StorageException} reports; callers branch on this, not on messages. */
public enum ErrorCode {
    /** Bytes read back do not match what was written (checksum, length, order, missing file). */
    CORRUPTION,
    /** The file system is full. Free space, then reopen. */
    NO_SPACE,
    /** Any other I/O failure (write, fsync, open, rename). */
    IO,
    /** An earlier failure made this log or database refuse further writes until it is reopened. */
    FAILED,
    /** The log or database was closed. */
    CLOSED,
    /** A higher epoch exists: this node may no longer accept writes. */
    FENCED,
    /** The directory is held by another open instance. */
    LOCKED,
    /** The operation does not fit the state of the data (an LSN outside the log, a format from a newer version). */
    INVALID_STATE
}
