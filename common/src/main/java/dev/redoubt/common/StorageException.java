package dev.redoubt.common;

import java.io.IOException;

/** A storage failure with a {@link ErrorCode}; the message says what happened and what to do about it. */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public StorageException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public StorageException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    /**
     * The one choke point that turns an {@link IOException} into a storage error: a full disk gets
     * {@link ErrorCode#NO_SPACE} and says so, everything else {@link ErrorCode#IO}.
     */
    public static StorageException fromIo(String whatFailed, IOException e) {
        if (isNoSpace(e)) {
            return new StorageException(ErrorCode.NO_SPACE,
                    whatFailed + ": the disk is full (" + e.getMessage() + "). Free space, then reopen.", e);
        }
        return new StorageException(ErrorCode.IO, whatFailed + ": " + e, e);
    }

    /**
     * Whether {@code e}, or any of its causes, is a full disk (a {@link NoSpaceException}, which the file layer
     * throws when it recognises one): what a log or database that refuses writes after a failure reports as
     * {@link ErrorCode#NO_SPACE}, since freeing space is the fix.
     */
    public static boolean isNoSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NoSpaceException) {
                return true;
            }
        }
        return false;
    }
}
