package dev.redoubt.tool;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The file layer of the read-only commands: reads go to the real files, and any attempt to create, write,
 * rename, delete, lock or fsync fails loudly, so a read-only command cannot change a data directory even by a
 * bug in a library it calls. Thread-safe.
 */
final class ReadOnlyStorageEnv implements StorageEnv {
    static final ReadOnlyStorageEnv INSTANCE = new ReadOnlyStorageEnv();

    private final StorageEnv real = FileStorageEnv.INSTANCE;

    private ReadOnlyStorageEnv() {
    }

    @Override
    public StorageFile openForRead(Path path) throws IOException {
        return real.openForRead(path);
    }

    @Override
    public StorageFile openForWrite(Path path) {
        throw refused("open for writing", path);
    }

    @Override
    public boolean exists(Path path) {
        return real.exists(path);
    }

    @Override
    public void rename(Path source, Path target) {
        throw refused("rename", source);
    }

    @Override
    public boolean delete(Path path) {
        throw refused("delete", path);
    }

    @Override
    public List<Path> list(Path dir) throws IOException {
        return real.list(dir);
    }

    @Override
    public void createDirectories(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw refused("create", dir);
        }
    }

    @Override
    public void syncDirectory(Path dir) {
        throw refused("fsync", dir);
    }

    @Override
    public AutoCloseable lock(Path path) {
        throw refused("lock", path);
    }

    @Override
    public void link(Path source, Path target) {
        throw refused("link", target);
    }

    private static StorageException refused(String what, Path path) {
        return new StorageException(ErrorCode.INVALID_STATE, "a read-only command tried to " + what + " " + path
                + " (a bug: please report it)");
    }
}
