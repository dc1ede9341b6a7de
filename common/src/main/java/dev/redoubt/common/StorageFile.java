package dev.redoubt.common;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One open file of a {@link StorageEnv}: positional reads and writes, {@link #force()}, size and
 * truncation. Nothing else; every file the engine keeps goes through this interface, so that a
 * fault-injecting implementation can stand in for the real one.
 *
 * <p>Durability contract: bytes passed to {@link #write} reach the operating system when the call
 * returns (they survive the death of the process) and reach stable storage only when a later
 * {@link #force()} returns (they survive a power cut). A file's <em>name</em> is durable only after
 * {@link StorageEnv#syncDirectory} of its directory.
 *
 * <p>Thread-safety: positional reads and writes may be issued from several threads; the caller
 * orders writes to overlapping ranges.
 */
public interface StorageFile extends Closeable {

    /** Reads up to {@code dst.remaining()} bytes at {@code position}; returns the count, or -1 at end of file. */
    int read(long position, ByteBuffer dst) throws IOException;

    /** Reads exactly {@code dst.remaining()} bytes at {@code position}; {@link java.io.EOFException} if the file is shorter. */
    default void readFully(long position, ByteBuffer dst) throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int n = read(at, dst);
            if (n < 0) {
                throw new java.io.EOFException("end of file at byte " + at + " while reading " + dst.remaining()
                        + " more bytes");
            }
            at += n;
        }
    }

    /** Writes every remaining byte of {@code src} at {@code position}. */
    void write(long position, ByteBuffer src) throws IOException;

    /** Makes every byte written so far, and the file's length, durable (fdatasync). */
    void force() throws IOException;

    long size() throws IOException;

    /** Shortens (or extends with zeros) the file to {@code size} bytes; durable only after {@link #force()}. */
    void truncate(long size) throws IOException;
}
