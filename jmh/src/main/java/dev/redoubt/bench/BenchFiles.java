package dev.redoubt.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** File helpers of the benchmarks' setup and teardown (never on a measured path). */
final class BenchFiles {
    private static final int ZERO_CHUNK = 1024 * 1024;

    private BenchFiles() {
    }

    /** A fresh directory under {@code java.io.tmpdir}; point that at the disk to measure. */
    static Path freshTempDir(String prefix) throws IOException {
        return Files.createTempDirectory(prefix);
    }

    /** Fills the first {@code size} bytes of {@code ch} with zeros and fsyncs data and metadata. */
    static void preallocate(FileChannel ch, long size) throws IOException {
        ch.truncate(0);
        ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
        for (long at = 0; at < size; ) {
            zeros.clear();
            zeros.limit((int) Math.min(ZERO_CHUNK, size - at));
            at += writeFully(ch, zeros, at);
        }
        ch.force(true);
    }

    /** Writes all of {@code src} at {@code position}; returns the bytes written. */
    static int writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
        int n = 0;
        while (src.hasRemaining()) {
            n += ch.write(src, position + n);
        }
        return n;
    }

    /** A direct buffer of {@code size} pseudo-random (incompressible) bytes. */
    static ByteBuffer randomDirect(int size, long seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        SplittableRandom rnd = new SplittableRandom(seed);
        while (b.hasRemaining()) {
            b.put((byte) rnd.nextInt());
        }
        return b.clear();
    }

}
