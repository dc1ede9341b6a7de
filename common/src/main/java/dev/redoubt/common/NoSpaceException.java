package dev.redoubt.common;

import java.io.IOException;

/**
 * A write, extension or fsync failed because the file system is full: the file layer recognises it and throws
 * this instead of a bare {@link IOException}, so callers branch on the type ({@link StorageException#isNoSpace})
 * rather than on an OS message, whose wording depends on the platform and the locale.
 */
public final class NoSpaceException extends IOException {
    private static final long serialVersionUID = 1L;

    public NoSpaceException(String message, Throwable cause) {
        super(message, cause);
    }
}
