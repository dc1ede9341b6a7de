package dev.redoubt.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk is recognised from the file system, not from the OS message's words: an I/O failure becomes a
 * {@link NoSpaceException} when the file system cannot hold what was being written, and only then
 * ({@code DbRealDiskFullTest} fills a real tmpfs, as root).
 */
class NoSpaceRecognitionTest {
    @TempDir
    Path tmp;

    @Test
    void aFailureIsNoSpaceOnlyWhenTheFileSystemCannotHoldWhatWasWritten() {
        IOException failure = new IOException("Kein Speicherplatz mehr verfügbar"); // any wording, any locale
        IOException tooBig = FileStorageEnv.noSpaceOr(failure, tmp.resolve("not-yet/segment.wal"), Long.MAX_VALUE);
        assertThat(tooBig).isInstanceOf(NoSpaceException.class).hasCause(failure);
        assertThat(StorageException.isNoSpace(new RuntimeException(tooBig))).isTrue();
        assertThat(StorageException.fromIo("appending", tooBig).code()).isEqualTo(ErrorCode.NO_SPACE);

        IOException other = new IOException("No space left on device"); // the words alone are not enough
        assertThat(FileStorageEnv.noSpaceOr(other, tmp.resolve("f"), 1)).isSameAs(other);
        assertThat(StorageException.isNoSpace(other)).isFalse();
        assertThat(StorageException.fromIo("appending", other).code()).isEqualTo(ErrorCode.IO);
    }
}
