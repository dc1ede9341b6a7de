package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;

/** The hot path does not allocate: measured with the JVM's per-thread allocation counter. */
class WalAllocationTest {
    private static final int WARMUP = 60_000;
    private static final int MEASURED = 50_000;

    @TempDir
    Path tmp;

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Durability.class)
    void appendAllocatesNothingPerRecordOnceWarm(Durability durability) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        UnsafeBuffer payload = new UnsafeBuffer(ByteBuffer.allocateDirect(100));
        // Large segments and a slow flusher: no roll and no background fsync in the measured window.
        WalOptions options = WalOptions.defaults().segmentBytes(64 * 1024 * 1024).asyncFlushIntervalMillis(60_000);
        // SYNC pays an fsync per append: fewer of them keep the test short.
        int warmup = durability == Durability.SYNC ? 3_000 : WARMUP;
        int measured = durability == Durability.SYNC ? 2_000 : MEASURED;
        try (Wal wal = Wal.open(tmp, options)) {
            for (int i = 0; i < warmup; i++) {
                wal.append(RecordType.WRITE_BATCH, payload, 0, 100, durability);
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < measured; i++) {
                wal.append(RecordType.WRITE_BATCH, payload, 0, 100, durability);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            System.out.printf("%s: %d bytes allocated by %d appends%n", durability, allocated, measured);
            // This thread is its own leader: reserve, serialize, drain, write; all of it is on this count.
            assertThat((double) allocated / measured).as("bytes allocated per append (%d in total)", allocated)
                    .isLessThan(1.0);
        }
    }
}
