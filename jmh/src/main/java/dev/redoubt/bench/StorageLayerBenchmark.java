package dev.redoubt.bench;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * The cost of the file layer itself (issue 5: "the real implementation on the hot path at no measurable cost"):
 * the same 4 KiB positioned writes, with and without {@code force}, once through a bare {@link
 * java.nio.channels.FileChannel} ({@code raw*}, the "before") and once through {@link FileStorageEnv}'s
 * {@link StorageFile} ({@code layer*}, the "after": what the WAL, tables and manifest use), into a 256 MiB file
 * zero-filled and fsynced at setup, wrapping at its end. The ratio layer/raw of the means is the overhead.
 *
 * <p>Run: {@code bin/bench 'StorageLayerBenchmark'}.
 */
@Threads(1)
public class StorageLayerBenchmark extends BenchmarkDefaults {
    static final int BLOCK_BYTES = 4096;
    static final long FILE_BYTES = 256L * 1024 * 1024;

    @State(Scope.Thread)
    public static class Raw extends RawFileChannelBaseline.WrappingFile {
        @Setup(Level.Trial)
        public void setup() throws IOException {
            open("raw-4k.dat", FILE_BYTES, BLOCK_BYTES);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            close();
        }
    }

    @State(Scope.Thread)
    public static class Layer {
        Path dir;
        StorageFile file;
        ByteBuffer block;
        long position;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            dir = BenchFiles.freshTempDir("redoubt-bench-layer-");
            Path path = dir.resolve("layer-4k.dat");
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(path,
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                BenchFiles.preallocate(ch, FILE_BYTES);
            }
            file = FileStorageEnv.INSTANCE.openForWrite(path);
            block = BenchFiles.randomDirect(BLOCK_BYTES, 42);
        }

        void writeNext() throws IOException {
            block.clear();
            file.write(position, block);
            position += BLOCK_BYTES;
            if (position >= FILE_BYTES) {
                position = 0;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            file.close();
            DirectoryTrees.deleteTree(dir);
        }
    }

    @Benchmark
    public long rawWrite4KiB(Raw f) throws IOException {
        f.writeNext();
        return f.position;
    }

    @Benchmark
    public long layerWrite4KiB(Layer f) throws IOException {
        f.writeNext();
        return f.position;
    }

    @Benchmark
    public long rawWriteForce4KiB(Raw f) throws IOException {
        f.writeNext();
        f.channel.force(false);
        return f.position;
    }

    @Benchmark
    public long layerWriteForce4KiB(Layer f) throws IOException {
        f.writeNext();
        f.file.force();
        return f.position;
    }
}
