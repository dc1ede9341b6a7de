package dev.redoubt.tool;

import dev.redoubt.engine.DbInspector;
import dev.redoubt.wal.Wal;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Checks a command's directory or file argument before anything reads it, so that bad input gets one clear
 * line and its exit code ({@link ExitCodes}): missing, not a directory, not a Redoubt database, locked by a
 * live process.
 */
final class DataDir {
    private DataDir() {
    }

    /** {@code dir} must hold a database with its CURRENT file. */
    static Path requireDatabase(Path dir) {
        DbInspector.Kind kind = DbInspector.classify(dir);
        switch (kind) {
            case DATABASE -> {
                return dir;
            }
            case DATABASE_WITHOUT_CURRENT -> throw new CliException(ExitCodes.CORRUPTION, dir
                    + " is a Redoubt database without its CURRENT file; run `redoubt db repair " + dir + "`");
            default -> throw notADatabase(dir, kind);
        }
    }

    /** {@code dir} must hold a database, whole or damaged (for repair and inspect). */
    static Path requireDatabaseOrRemains(Path dir) {
        DbInspector.Kind kind = DbInspector.classify(dir);
        if (kind == DbInspector.Kind.DATABASE || kind == DbInspector.Kind.DATABASE_WITHOUT_CURRENT) {
            return dir;
        }
        throw notADatabase(dir, kind);
    }

    /** {@code dir} must hold a write-ahead log ({@code wal/}), with or without the rest of a database. */
    static Path requireWal(Path dir) {
        DbInspector.Kind kind = DbInspector.classify(dir);
        if (kind == DbInspector.Kind.MISSING || kind == DbInspector.Kind.NOT_A_DIRECTORY) {
            throw notADatabase(dir, kind);
        }
        if (!Files.isDirectory(dir.resolve(Wal.WAL_DIR))) {
            throw new CliException(ExitCodes.DATA, dir + " has no " + Wal.WAL_DIR
                    + "/ directory: not a Redoubt data directory");
        }
        return dir;
    }

    /** {@code file} must be an existing regular file. */
    static Path requireFile(Path file) {
        if (!Files.exists(file)) {
            throw new CliException(ExitCodes.NO_INPUT, file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new CliException(ExitCodes.DATA, file + " is not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw new CliException(ExitCodes.IO, file + ": permission denied (the file is unreadable)");
        }
        return file;
    }

    private static CliException notADatabase(Path dir, DbInspector.Kind kind) {
        return switch (kind) {
            case MISSING -> new CliException(ExitCodes.NO_INPUT, dir + ": no such directory");
            case NOT_A_DIRECTORY -> new CliException(ExitCodes.DATA, dir + " is a file, not a data directory");
            case EMPTY -> new CliException(ExitCodes.DATA, dir + " is empty: not a Redoubt database");
            default -> new CliException(ExitCodes.DATA, dir
                    + " is not a Redoubt database (no CURRENT, MANIFEST, wal/ or sst/)");
        };
    }

    /**
     * Holds the directory's LOCK for the duration of a read-only command, so that no process opens the database
     * meanwhile, without creating or writing anything: a directory without a LOCK file (a checkpoint copy) is
     * not locked. Fails with {@link ExitCodes#LOCKED} when a live process holds it.
     */
    /** Total size of the WAL segment files in {@code dir}, for a progress bar's maximum (0 if unreadable). */
    static long walBytes(Path dir) {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir.resolve(dev.redoubt.wal.Wal.WAL_DIR))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".wal")).mapToLong(p -> p.toFile().length()).sum();
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    static AutoCloseable holdLock(Path dir) {
        Path lockFile = dir.resolve(DbInspector.LOCK_FILE);
        FileChannel channel;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return () -> { };
        } catch (IOException e) {
            throw new CliException(ExitCodes.IO, lockFile + ": cannot open the lock file (" + e.getMessage() + ")", e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException | IOException e) {
            lock = null;
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new CliException(ExitCodes.LOCKED, dir + " is locked: the database is open in a live process;"
                    + " stop that process first (or inspect a `redoubt db checkpoint` copy)");
        }
        FileLock held = lock;
        return () -> {
            held.release();
            channel.close();
        };
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written
        }
    }
}
