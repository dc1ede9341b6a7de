package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import dev.redoubt.wal.Durability;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** WAL compression turned on from {@link DbOptions}: smaller logs for compressible values, the same data back. */
class DbWalCompressionTest {
    private static final int VALUES = 2_000;

    @Test
    void compressibleValuesMakeASmallerLogAndReadBackAfterRedo() {
        long plain = logBytesAfterReopen(DbOptions.defaults());
        long compressed = logBytesAfterReopen(DbOptions.defaults().walCompressAboveBytes(256));
        assertThat(compressed).as("log bytes with LZ4 (%d) against without (%d)", compressed, plain)
                .isLessThan(plain / 3);
    }

    @Test
    void incompressibleValuesAreStoredAsTheyAre() {
        Random random = new Random(5);
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Path dir = Path.of("/random");
        byte[][] values = new byte[100][];
        try (Db db = Db.open(env, dir, DbOptions.defaults().durability(Durability.ASYNC).walCompressAboveBytes(0))) {
            for (int i = 0; i < values.length; i++) {
                values[i] = new byte[1024];
                random.nextBytes(values[i]);
                db.put(key(i), values[i]);
            }
            assertThat(db.stats().walBytes()).as("random bytes do not shrink: stored raw")
                    .isGreaterThan(values.length * 1024L);
        }
        try (Db db = Db.open(env, dir, DbOptions.defaults().walCompressAboveBytes(0))) {
            for (int i = 0; i < values.length; i++) {
                assertThat(db.get(key(i))).isEqualTo(values[i]);
            }
        }
    }

    /** Writes compressible 1 KiB values, closes without a flush, reopens (redo) and checks them; the log's bytes. */
    private static long logBytesAfterReopen(DbOptions options) {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Path dir = Path.of("/db");
        long walBytes;
        try (Db db = Db.open(env, dir, options.copy().durability(Durability.ASYNC))) {
            for (int i = 0; i < VALUES; i++) {
                db.put(key(i), value(i));
            }
            walBytes = db.stats().walBytes();
        }
        try (Db db = Db.open(env, dir, options.copy())) {
            assertThat(db.recoveryReport().recordsReplayed()).isGreaterThanOrEqualTo(VALUES);
            for (int i = 0; i < VALUES; i++) {
                assertThat(db.get(key(i))).as("key %d", i).isEqualTo(value(i));
            }
        }
        return walBytes;
    }

    private static byte[] key(int i) {
        return String.format("key-%06d", i).getBytes(StandardCharsets.UTF_8);
    }

    /** 1 KiB of JSON-like text: what LZ4 shrinks a lot. */
    private static byte[] value(int i) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 1024) {
            sb.append("{\"id\":").append(i).append(",\"name\":\"customer\",\"status\":\"active\"},");
        }
        return sb.substring(0, 1024).getBytes(StandardCharsets.UTF_8);
    }
}
