package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.wal.Durability;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warm put allocates (almost) nothing on the heap of the thread that calls it: the batch, its encoding, the
 * log append, the decode and the memtable insert all reuse memory. Measured with the JVM's per-thread
 * allocation counter ({@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}), not a timing. The keys
 * are made before the measured loop; the memtable is sized so that no switch (and no flush) happens in it.
 */
class DbPutAllocationTest {
    /** The ceiling of issue 14: at most 16 bytes per warm put. */
    private static final double MAX_BYTES_PER_PUT = 16;
    private static final int WARM_PUTS = 200_000;
    private static final int MEASURED_PUTS = 100_000;

    @TempDir
    Path dir;

    @Test
    void aWarmAsyncPutAllocatesAtMostSixteenBytesOnTheCallingThread() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        byte[][] keys = new byte[WARM_PUTS + MEASURED_PUTS][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = String.format("key%012d", Integer.reverse(i) & 0x7fffffff).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
        byte[] value = new byte[100];
        try (Db db = Db.open(dir, DbOptions.defaults().durability(Durability.ASYNC).memtableBytes(256L << 20))) {
            for (int i = 0; i < WARM_PUTS; i++) {
                db.put(keys[i], value);
            }
            long before = threads.getThreadAllocatedBytes(self);
            for (int i = WARM_PUTS; i < keys.length; i++) {
                db.put(keys[i], value);
            }
            long allocated = threads.getThreadAllocatedBytes(self) - before;
            double perPut = (double) allocated / MEASURED_PUTS;
            System.out.printf("DbPutAllocationTest: %.2f heap bytes per warm ASYNC put (%d over %d puts)%n", perPut,
                    allocated, MEASURED_PUTS);
            assertThat(perPut).as("heap bytes allocated per warm put (%d in all)", allocated)
                    .isLessThanOrEqualTo(MAX_BYTES_PER_PUT);

            // The same from direct buffers (no array on the way).
            java.nio.ByteBuffer keyBuffer = java.nio.ByteBuffer.allocateDirect(64);
            java.nio.ByteBuffer valueBuffer = java.nio.ByteBuffer.allocateDirect(value.length);
            for (int i = 0; i < WARM_PUTS; i++) {
                keyBuffer.clear().put(keys[i]).flip();
                db.put(keyBuffer, valueBuffer);
            }
            long beforeBuffers = threads.getThreadAllocatedBytes(self);
            for (int i = WARM_PUTS; i < keys.length; i++) {
                keyBuffer.clear().put(keys[i]).flip();
                db.put(keyBuffer, valueBuffer);
            }
            long fromBuffers = threads.getThreadAllocatedBytes(self) - beforeBuffers;
            System.out.printf("DbPutAllocationTest: %.2f heap bytes per warm ASYNC put from direct buffers%n",
                    (double) fromBuffers / MEASURED_PUTS);
            assertThat((double) fromBuffers / MEASURED_PUTS).as("heap bytes per put from direct buffers")
                    .isLessThanOrEqualTo(MAX_BYTES_PER_PUT);
        }
    }
}
