package dev.redoubt.sstable;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.nio.file.Path;

/**
 * A table's bytes are not what its writer wrote: a bad magic, checksum, length, order or structure. Always
 * {@link ErrorCode#CORRUPTION}; the message names the file, the byte offset and what is wrong, and says
 * what to do. Immutable.
 */
public final class SstCorruptionException extends StorageException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    SstCorruptionException(Path file, long offset, String problem) {
        super(ErrorCode.CORRUPTION, "SSTable " + file + " is corrupt at byte " + offset + ": " + problem
                + ". Its contents cannot be trusted: restore the table from a backup or a replica, or run"
                + " `redoubt db repair` to drop it");
        this.file = file;
        this.offset = offset;
    }

    /** The damaged table. */
    public Path file() {
        return file;
    }

    /** The file offset of the damage: the field or block that failed its check. */
    public long offset() {
        return offset;
    }
}
