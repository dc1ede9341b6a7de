package dev.redoubt.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.StorageFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TornWriteTest {
    private static final Path DIR = Path.of("/d");
    private static final Path FILE = DIR.resolve("f");

    private static SimulatedStorageEnv envWithSyncedFile(byte[] synced) throws Exception {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        env.createDirectories(DIR);
        try (StorageFile f = env.openForWrite(FILE)) {
            f.write(0, ByteBuffer.wrap(synced));
            f.force();
        }
        env.syncDirectory(DIR);
        return env;
    }

    @Test
    void theLastUnsyncedWriteKeepsASectorAlignedPrefixAndEarlierUnsyncedWritesAreLost() throws Exception {
        for (int seed = 0; seed < 200; seed++) {
            SimulatedStorageEnv env = envWithSyncedFile(new byte[100]);
            byte[] first = new byte[300];
            Arrays.fill(first, (byte) 1);
            byte[] last = new byte[3000];
            Arrays.fill(last, (byte) 2);
            try (StorageFile f = env.openForWrite(FILE)) {
                f.write(100, ByteBuffer.wrap(first));
                f.write(400, ByteBuffer.wrap(last));
            }
            env.cutPowerTearingWrites(new Random(seed));
            byte[] after = env.readAllBytes(FILE);
            // A prefix of the last write survives, ending at a sector boundary; nothing of the earlier write.
            assertThat(after.length % 512 == 0 || after.length == 100).as("seed %d: length %d", seed, after.length).isTrue();
            assertThat(after.length).isBetween(100, 3400);
            for (int i = 100; i < Math.min(400, after.length); i++) {
                assertThat(after[i]).as("seed %d: byte %d of the earlier unsynced write", seed, i).isZero();
            }
            for (int i = 400; i < after.length; i++) {
                assertThat(after[i]).as("seed %d: byte %d of the torn write", seed, i).isEqualTo((byte) 2);
            }
        }
    }

    @Test
    void aWriteWithinOneSectorIsAtomicAndAForcedWriteIsNeverTorn() throws Exception {
        SimulatedStorageEnv env = envWithSyncedFile(new byte[10]);
        try (StorageFile f = env.openForWrite(FILE)) {
            f.write(10, ByteBuffer.wrap(new byte[] {7, 7, 7}));
        }
        env.cutPowerTearingWrites(new Random(1));
        assertThat(env.readAllBytes(FILE)).hasSize(10);

        SimulatedStorageEnv synced = envWithSyncedFile(new byte[2048]);
        assertThat(synced.readAllBytes(FILE)).hasSize(2048);
        synced.cutPowerTearingWrites(new Random(2));
        assertThat(synced.readAllBytes(FILE)).hasSize(2048);
    }
}
