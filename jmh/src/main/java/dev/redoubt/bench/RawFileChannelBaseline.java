package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * The physical limits the WAL is judged against, measured with a bare {@link FileChannel} in the same run and
 * on the same disk ({@code java.io.tmpdir}), single-threaded:
 *
 * <ul>
 *   <li>{@code writeForce4KiB}: one 4 KiB write then {@code force(false)} (fdatasync) per operation, at
 *       increasing 4 KiB-aligned positions of a 256 MiB file that was zero-filled and fsynced at setup, wrapping
 *       to 0 at its end. The fsync limit: what a {@code SYNC} append with one writer can at best reach.</li>
 *   <li>{@code seqWrite1MiB}: sequential 1 MiB writes, no fsync, into a 1 GiB file zero-filled and fsynced at
 *       setup (so it is preallocated from the first operation), wrapping to 0 at its end. The write bandwidth
 *       limit of the OS write path, which is what an {@code ASYNC} append waits for.</li>
 *   <li>{@code seqWrite1MiBForce}: the same plus {@code force(false)} after every 1 MiB: the device's bandwidth
 *       when the bytes must reach it (informational; brackets the one above from below).</li>
 * </ul>
 *
 * <p>One operation = one write (+ force): {@link WalBenchmarks} turns the mean into ops/s and, with the bytes per
 * operation, MB/s (10^6 B/s), the WAL's units.
 */
@Threads(1)
public class RawFileChannelBaseline extends BenchmarkDefaults {
    public static final int PAGE_BYTES = 4096;
    public static final long FSYNC_FILE_BYTES = 256L * 1024 * 1024;
    public static final int CHUNK_BYTES = 1024 * 1024;
    public static final long SEQ_FILE_BYTES = 1024L * 1024 * 1024;

    /** A preallocated file written at a moving, wrapping position. */
    abstract static class WrappingFile {
        private Path dir;
        FileChannel channel;
        ByteBuffer block;
        long position;
        long size;

        void open(String name, long fileBytes, int blockBytes) throws IOException {
            dir = BenchFiles.freshTempDir("redoubt-bench-raw-");
            channel = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            BenchFiles.preallocate(channel, fileBytes);
            size = fileBytes;
            block = BenchFiles.randomDirect(blockBytes, 42);
            position = 0;
        }

        /** Writes the block at the current position and advances, wrapping at the end of the file. */
        void writeNext() throws IOException {
            block.clear();
            position += BenchFiles.writeFully(channel, block, position);
            if (position >= size) {
                position = 0;
            }
        }

        void close() throws IOException {
            try {
                if (channel != null) {
                    channel.close();
                }
            } finally {
                DirectoryTrees.deleteTree(dir);
            }
        }
    }

    @State(Scope.Thread)
    public static class FsyncFile extends WrappingFile {
        @Setup(Level.Trial)
        public void setup() throws IOException {
            open("fsync-4k.dat", FSYNC_FILE_BYTES, PAGE_BYTES);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            close();
        }
    }

    @State(Scope.Thread)
    public static class SeqFile extends WrappingFile {
        @Setup(Level.Trial)
        public void setup() throws IOException {
            open("seq-1m.dat", SEQ_FILE_BYTES, CHUNK_BYTES);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            close();
        }
    }

    @Benchmark
    public long writeForce4KiB(FsyncFile f) throws IOException {
        f.writeNext();
        f.channel.force(false);
        return f.position;
    }

    @Benchmark
    public long seqWrite1MiB(SeqFile f) throws IOException {
        f.writeNext();
        return f.position;
    }

    @Benchmark
    public long seqWrite1MiBForce(SeqFile f) throws IOException {
        f.writeNext();
        f.channel.force(false);
        return f.position;
    }
}
