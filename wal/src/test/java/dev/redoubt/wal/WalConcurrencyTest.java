package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class WalConcurrencyTest {
    private static final int WRITERS = 12;
    private static final int PER_WRITER = 400;

    @TempDir
    Path tmp;

    /** Payload naming its writer and sequence, so that every record read back can be checked exactly. */
    private static byte[] payload(int writer, int seq) {
        int length = 8 + (writer * 31 + seq * 17) % 300;
        ByteBuffer b = ByteBuffer.allocate(length);
        b.putInt(writer).putInt(seq);
        while (b.hasRemaining()) {
            b.put((byte) (writer ^ seq ^ b.position()));
        }
        return b.array();
    }

    @Test
    @Timeout(120)
    void concurrentWritersProduceAGapFreeOrderedLogWhereEveryAcknowledgedLsnReadsBack() throws Exception {
        runWriters(Wal.open(tmp, WalOptions.defaults().segmentBytes(64 * 1024)), true);
    }

    @Test
    @Timeout(120)
    void theApplierSeesEveryRecordOnceInLsnOrderBeforeItsAppenderIsAcknowledged() throws Exception {
        java.util.List<Long> applied = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.Set<Long> appliedSet = ConcurrentHashMap.newKeySet();
        RecordApplier applier = (type, lsn, endLsn, payload, offset, length) -> {
            applied.add(lsn);
            appliedSet.add(lsn);
        };
        // Small ring and segments: groups stop at the staging bound and at rolls; some records take the large path.
        WalOptions options = WalOptions.defaults().segmentBytes(16 * 1024).ringBytes(64 * 1024).compressAboveBytes(100);
        try (Wal wal = Wal.open(new SimulatedStorageEnv(), Path.of("/db"), options, applier)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                int writer = w;
                futures.add(pool.submit(() -> {
                    for (int seq = 0; seq < 300; seq++) {
                        byte[] p = seq % 50 == 0 ? new byte[12_000] : payload(writer, seq);
                        long lsn = wal.append(RecordType.WRITE_BATCH, p, seq % 2 == 0 ? Durability.SYNC : Durability.ASYNC);
                        assertThat(appliedSet).as("LSN %d acknowledged before it was applied", lsn).contains(lsn);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(100, TimeUnit.SECONDS);
            }
            pool.shutdown();
            List<Long> logged = WalTestLog.readAll(wal).stream().map(WalTestLog.Read::lsn).toList();
            assertThat(applied).containsExactlyElementsOf(logged);
        }
    }

    @Test
    @Timeout(120)
    void concurrentWritersOnTheSimulatedEnvWithSmallRingAndSegments() throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        runWriters(Wal.open(env, Path.of("/db"), WalOptions.defaults().segmentBytes(8192).ringBytes(64 * 1024)), false);
    }

    private void runWriters(Wal wal, boolean expectGroupCommit) throws Exception {
        Map<Long, byte[]> acknowledged = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int seq = 0; seq < PER_WRITER; seq++) {
                        byte[] p = payload(writer, seq);
                        Durability d = (writer + seq) % 3 == 0 ? Durability.ASYNC : Durability.SYNC;
                        long lsn = wal.append(RecordType.WRITE_BATCH, p, d);
                        assertThat(acknowledged.put(lsn, p)).as("LSN %d handed out twice", lsn).isNull();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(100, TimeUnit.SECONDS);
            }
            WalStats stats = wal.stats();
            assertThat(stats.recordsWritten()).isEqualTo((long) WRITERS * PER_WRITER);
            if (expectGroupCommit) {
                // Group commit: far fewer fsyncs than SYNC appends.
                assertThat(stats.fsyncs()).as(stats.toString()).isLessThan((long) WRITERS * PER_WRITER * 2 / 3);
            }
            List<WalTestLog.Read> read = WalTestLog.readAll(wal);
            assertThat(read).hasSize(WRITERS * PER_WRITER);
            int[] nextSeq = new int[WRITERS];
            long expectedLsn = -1;
            for (WalTestLog.Read r : read) {
                if (expectedLsn >= 0 && r.lsn() != expectedLsn) {
                    // Only a segment roll may move the next LSN forward.
                    assertThat(r.lsn() % 8192).as("gap before LSN %d", r.lsn()).isZero();
                }
                expectedLsn = r.lsn() + WalRecordDescriptor.HEADER_LENGTH + r.payload().length;
                assertThat(acknowledged.get(r.lsn())).as("record at LSN %d", r.lsn()).isEqualTo(r.payload());
                ByteBuffer b = ByteBuffer.wrap(r.payload());
                int writer = b.getInt();
                int seq = b.getInt();
                // Each writer's records appear in the order it appended them.
                assertThat(seq).isEqualTo(nextSeq[writer]++);
            }
        } finally {
            pool.shutdownNow();
            wal.close();
        }
    }
}
