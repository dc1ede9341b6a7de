package dev.redoubt.common;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** The real file layer: {@link FileChannel} positional I/O, {@code force(false)} (fdatasync), rename, directory fsync. */
public final class FileStorageEnv implements StorageEnv {

    public static final FileStorageEnv INSTANCE = new FileStorageEnv();

    private FileStorageEnv() {
    }

    @Override
    public StorageFile openForRead(Path path) throws IOException {
        return new ChannelFile(path, FileChannel.open(path, StandardOpenOption.READ));
    }

    @Override
    public StorageFile openForWrite(Path path) throws IOException {
        try {
            return new ChannelFile(path, FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.CREATE));
        } catch (IOException e) {
            throw noSpaceOr(e, path, 1);
        }
    }

    /**
     * {@code e} as a {@link NoSpaceException} when the file system holding {@code path} has fewer than
     * {@code needed} bytes (at least one) usable left, which is what made the call fail; else {@code e}. Java
     * gives no error number, and the OS message's wording depends on the locale, so the file system is asked.
     */
    static IOException noSpaceOr(IOException e, Path path, long needed) {
        if (e instanceof NoSpaceException) {
            return e;
        }
        try {
            Path existing = path.toAbsolutePath();
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (existing != null && Files.getFileStore(existing).getUsableSpace() < Math.max(1, needed)) {
                return new NoSpaceException(path + ": no space left on the file system (" + e.getMessage() + ")", e);
            }
        } catch (IOException | RuntimeException ignored) {
            // cannot tell: report the original failure
        }
        return e;
    }

    @Override
    public boolean exists(Path path) {
        return Files.exists(path);
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public boolean delete(Path path) throws IOException {
        return Files.deleteIfExists(path);
    }

    @Override
    public List<Path> list(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                if (Files.isRegularFile(p)) {
                    files.add(p);
                }
            }
        }
        files.sort(null);
        return files;
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Files.createDirectories(dir);
        // A new directory's own name lives in its parent: make both durable.
        syncDirectory(dir);
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null) {
            syncDirectory(parent);
        }
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public AutoCloseable lock(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        java.nio.channels.FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            channel.close();
            throw new StorageException(ErrorCode.LOCKED, path + " is locked by a database already open in this process");
        }
        if (lock == null) {
            channel.close();
            throw new StorageException(ErrorCode.LOCKED, path + " is locked by another process: the database is open"
                    + " there; close it (or stop that process) first");
        }
        return () -> {
            lock.release();
            channel.close();
        };
    }

    @Override
    public void link(Path source, Path target) throws IOException {
        Files.createLink(target, source);
    }

    private static final class ChannelFile implements StorageFile {
        /** Only for recognising a full file system. */
        private final Path path;
        private final FileChannel channel;

        ChannelFile(Path path, FileChannel channel) {
            this.path = path;
            this.channel = channel;
        }

        @Override
        public int read(long position, ByteBuffer dst) throws IOException {
            return channel.read(dst, position);
        }

        @Override
        public void write(long position, ByteBuffer src) throws IOException {
            long at = position;
            try {
                while (src.hasRemaining()) {
                    at += channel.write(src, at);
                }
            } catch (IOException e) {
                throw noSpaceOr(e, path, src.remaining());
            }
        }

        @Override
        public void force() throws IOException {
            // fdatasync: data plus the metadata needed to read it back (the length), not timestamps.
            try {
                channel.force(false);
            } catch (IOException e) {
                // Delayed allocation: a file system may find it is full only when it writes back.
                throw noSpaceOr(e, path, 1);
            }
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            long current = channel.size();
            if (size < current) {
                channel.truncate(size);
            } else if (size > current) {
                ByteBuffer zero = ByteBuffer.allocate(1);
                try {
                    channel.write(zero, size - 1);
                } catch (IOException e) {
                    throw noSpaceOr(e, path, size - current);
                }
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
