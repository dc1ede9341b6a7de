package dev.redoubt.tool;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageFile;
import dev.redoubt.wal.SegmentFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The real file layer, counting the bytes read from WAL segments: {@code db recover} turns that into its progress
 * bar (the open reads the log once to check it and once more to replay it) without a hook in the engine.
 * Thread-safe.
 */
final class CountingStorageEnv implements StorageEnv {
    private final StorageEnv real = FileStorageEnv.INSTANCE;
    private final AtomicLong walBytesRead = new AtomicLong();

    long walBytesRead() {
        return walBytesRead.get();
    }

    private StorageFile wrap(Path path, StorageFile file) {
        if (SegmentFiles.parseSegmentBase(path) < 0) {
            return file;
        }
        return new StorageFile() {
            @Override
            public int read(long position, ByteBuffer dst) throws IOException {
                int n = file.read(position, dst);
                if (n > 0) {
                    walBytesRead.addAndGet(n);
                }
                return n;
            }

            @Override
            public void write(long position, ByteBuffer src) throws IOException {
                file.write(position, src);
            }

            @Override
            public void force() throws IOException {
                file.force();
            }

            @Override
            public long size() throws IOException {
                return file.size();
            }

            @Override
            public void truncate(long size) throws IOException {
                file.truncate(size);
            }

            @Override
            public void close() throws IOException {
                file.close();
            }
        };
    }

    @Override
    public StorageFile openForRead(Path path) throws IOException {
        return wrap(path, real.openForRead(path));
    }

    @Override
    public StorageFile openForWrite(Path path) throws IOException {
        return wrap(path, real.openForWrite(path));
    }

    @Override
    public boolean exists(Path path) {
        return real.exists(path);
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        real.rename(source, target);
    }

    @Override
    public boolean delete(Path path) throws IOException {
        return real.delete(path);
    }

    @Override
    public List<Path> list(Path dir) throws IOException {
        return real.list(dir);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        real.createDirectories(dir);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        real.syncDirectory(dir);
    }

    @Override
    public AutoCloseable lock(Path path) throws IOException {
        return real.lock(path);
    }

    @Override
    public void link(Path source, Path target) throws IOException {
        real.link(source, target);
    }
}
