package dev.redoubt.replication.raft;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The file operations the snapshot code needs, each with its durability stated: fsync of files and directories,
 * atomic renames, recursive deletion, digests. Stateless; thread-safe.
 */
final class FileTrees {
    private static final int DIGEST_BUFFER_BYTES = 1 << 20;

    private FileTrees() {
    }

    /** Makes creates, renames and deletes of names in {@code dir} durable. */
    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    /**
     * Makes the bytes of {@code file} durable (through any of its names: hard links share them). Opened for reading
     * only: fsync works on such a descriptor, and tables may be read-only.
     */
    static void fsyncFile(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    /** Renames atomically; durable after {@link #fsyncDirectory} of both parents. */
    static void renameAtomically(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Copies {@code from} to the new file {@code to} and fsyncs the copy. */
    static void copyDurably(Path from, Path to) throws IOException {
        Files.copy(from, to);
        fsyncFile(to);
    }

    /**
     * Gives the immutable file {@code from} the new name {@code to}: a hard link where the file system has them,
     * else a copy. The bytes are fsynced either way.
     */
    static void linkDurably(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (UnsupportedOperationException | IOException e) {
            if (!Files.isRegularFile(from) || Files.exists(to)) {
                throw e; // a missing source or a taken name is an error, not a reason to copy
            }
            Files.copy(from, to);
        }
        fsyncFile(to);
    }

    /** The MD5 digest of the file's bytes, as 32 lowercase hex digits. */
    static String md5Hex(Path file) throws IOException {
        MessageDigest md5 = newMd5();
        byte[] buffer = new byte[DIGEST_BUFFER_BYTES];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                md5.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md5.digest());
    }

    private static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no MD5, which every Java platform must provide", e);
        }
    }

    /** The identity of the file behind a name (device and inode where the platform has them), or null. */
    static Object fileKey(Path file) throws IOException {
        return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    }

    /** A file's identity (device and inode), or null if it does not exist. */
    static Object fileKeyIfExists(Path file) throws IOException {
        try {
            return fileKey(file);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }
}
