package dev.redoubt.common;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The narrow file layer (LevelDB's {@code Env}): every file and directory operation of the engine goes
 * through it. {@link FileStorageEnv} is the real one; the test-support module has one that can cut
 * power (drop every byte and every directory change that was not made durable).
 *
 * <p>Durability rules every implementation models: a write is durable after {@link StorageFile#force()}
 * of its file; a create, rename or delete is durable after {@link #syncDirectory} of the directory that
 * holds the name. Directories created by {@link #createDirectories} are durable when the call returns.
 */
public interface StorageEnv {

    /** Opens an existing file for reading; {@link java.nio.file.NoSuchFileException} if it is missing. */
    StorageFile openForRead(Path path) throws IOException;

    /** Opens a file for reading and writing, creating it (empty) if it is missing. */
    StorageFile openForWrite(Path path) throws IOException;

    boolean exists(Path path);

    /**
     * Atomically replaces {@code target} (if present) with {@code source}; also renames a directory (onto a
     * missing or empty one), and what a file layer knows of the files below it goes along.
     */
    void rename(Path source, Path target) throws IOException;

    /** Deletes the file if it exists; returns whether it did. */
    boolean delete(Path path) throws IOException;

    /** The files (not directories) directly inside {@code dir}, sorted by name; empty if the directory is missing. */
    List<Path> list(Path dir) throws IOException;

    void createDirectories(Path dir) throws IOException;

    /** Makes creates, renames and deletes of names in {@code dir} durable (fsync of the directory). */
    void syncDirectory(Path dir) throws IOException;

    /**
     * Takes an exclusive lock on {@code path} (created if missing) for as long as the returned handle is open.
     * Throws {@link StorageException} with {@link ErrorCode#LOCKED} if another holder, in this process or
     * another, has it.
     */
    AutoCloseable lock(Path path) throws IOException;

    /**
     * Makes {@code target} a new name of the immutable file {@code source} (a hard link where the file system
     * has them; a copy otherwise). Durable after {@link #syncDirectory} of the target's directory.
     */
    default void link(Path source, Path target) throws IOException {
        copy(source, target);
    }

    /**
     * Writes a copy of {@code source} to {@code target} (replacing what was there) and fsyncs it: a copy of its
     * own, never a second name of the same file, so that later changes to {@code source} leave it alone. Durable
     * after {@link #syncDirectory} of the target's directory.
     */
    default void copy(Path source, Path target) throws IOException {
        try (StorageFile in = openForRead(source); StorageFile out = openForWrite(target)) {
            out.truncate(0);
            java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(1 << 20);
            long at = 0;
            while (true) {
                chunk.clear();
                int n = in.read(at, chunk);
                if (n < 0) {
                    break;
                }
                chunk.flip();
                out.write(at, chunk);
                at += n;
            }
            out.force();
        }
    }
}
