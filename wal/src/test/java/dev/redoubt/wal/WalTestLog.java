package dev.redoubt.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A log on a {@link SimulatedStorageEnv} with what was appended remembered, for the WAL's tests. */
final class WalTestLog {
    static final Path DIR = Path.of("/db");
    static final Path WAL_DIR = DIR.resolve(Wal.WAL_DIR);

    /** One appended record. */
    record Appended(long lsn, byte[] payload) {
    }

    /** One record read back. */
    record Read(long lsn, RecordType type, long epoch, byte[] payload) {
    }

    private WalTestLog() {
    }

    static byte[] randomPayload(Random random, int maxBytes) {
        byte[] payload = new byte[random.nextInt(maxBytes + 1)];
        if (random.nextBoolean()) {
            random.nextBytes(payload);
        } else {
            // Compressible: runs of a few symbols.
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) ('a' + (i / 7) % 3);
            }
        }
        return payload;
    }

    static List<Appended> appendRandom(Wal wal, Random random, int count, int maxBytes) {
        List<Appended> appended = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] payload = randomPayload(random, maxBytes);
            long lsn = wal.append(RecordType.WRITE_BATCH, payload, Durability.SYNC);
            appended.add(new Appended(lsn, payload));
        }
        return appended;
    }

    static List<Read> readAll(Wal wal) {
        try (WalReader reader = wal.newReader(wal.startLsn())) {
            List<Read> records = new ArrayList<>();
            while (reader.next()) {
                records.add(new Read(reader.lsn(), reader.type(), reader.epoch(), reader.payloadBytes()));
            }
            assertThat(reader.status()).as(String.valueOf(reader.problem())).isEqualTo(WalReader.Status.END);
            return records;
        }
    }

    static void assertSameRecords(String context, List<Read> read, List<Appended> appended) {
        assertThat(read).as(context).hasSize(appended.size());
        for (int i = 0; i < appended.size(); i++) {
            assertThat(read.get(i).lsn()).as("%s: LSN of record %d", context, i).isEqualTo(appended.get(i).lsn());
            assertThat(read.get(i).payload()).as("%s: payload of record %d", context, i).isEqualTo(appended.get(i).payload());
        }
    }

    /** The segment file holding {@code lsn}, given the fixed segment size the test used. */
    static Path segmentOf(long lsn, int segmentBytes) {
        return SegmentFiles.segmentPath(WAL_DIR, lsn / segmentBytes * segmentBytes);
    }
}
