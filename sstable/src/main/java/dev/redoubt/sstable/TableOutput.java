package dev.redoubt.sstable;

import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Appends to a new table file through a write buffer, so that a table of 4 KiB blocks costs one
 * {@code pwrite} per {@value #BUFFER_BYTES} bytes rather than one per block.
 *
 * <p>Not thread-safe: owned by one writer.
 */
final class TableOutput {
    static final int BUFFER_BYTES = 256 * 1024;

    private final StorageFile file;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private final ByteBuffer bufferView = ByteBuffer.wrap(buffer);
    private int buffered;
    /** File offset of {@code buffer[0]}. */
    private long flushed;

    TableOutput(StorageFile file) {
        this.file = file;
    }

    /** Bytes appended so far: the offset the next append lands at. */
    long position() {
        return flushed + buffered;
    }

    void append(byte[] src, int from, int count) throws IOException {
        if (count > BUFFER_BYTES - buffered) {
            flush();
        }
        if (count >= BUFFER_BYTES) {
            file.write(flushed, ByteBuffer.wrap(src, from, count));
            flushed += count;
            return;
        }
        System.arraycopy(src, from, buffer, buffered, count);
        buffered += count;
    }

    void flush() throws IOException {
        if (buffered > 0) {
            bufferView.clear().limit(buffered);
            file.write(flushed, bufferView);
            flushed += buffered;
            buffered = 0;
        }
    }
}
