package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input, one case each: a clear exception, and nothing on disk damaged. */
class DbBadInputTest {
    @TempDir
    Path tmp;

    @Test
    void nullKeyOrValueIsRejected() {
        try (Db db = Db.open(tmp.resolve("db"))) {
            assertThatThrownBy(() -> db.put(null, new byte[1])).isInstanceOf(NullPointerException.class).hasMessageContaining("key");
            assertThatThrownBy(() -> db.put(new byte[1], null)).isInstanceOf(NullPointerException.class).hasMessageContaining("value");
            assertThatThrownBy(() -> db.get(null)).isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void keyOrValueOverTheLimitIsRejectedWithTheLimit() {
        try (Db db = Db.open(tmp.resolve("db"))) {
            assertThatThrownBy(() -> db.put(new byte[Limits.MAX_KEY_BYTES + 1], new byte[1]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(String.valueOf(Limits.MAX_KEY_BYTES));
            assertThatThrownBy(() -> db.put(new byte[1], new byte[Limits.MAX_VALUE_BYTES + 1]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(String.valueOf(Limits.MAX_VALUE_BYTES));
            db.put(new byte[Limits.MAX_KEY_BYTES], new byte[] {1});
            assertThat(db.get(new byte[Limits.MAX_KEY_BYTES])).containsExactly(1);
        }
    }

    @Test
    void directoryThatIsNotADatabaseIsRefusedAndLeftAlone() throws IOException {
        Path dir = tmp.resolve("photos");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("holiday.jpg"), "not a database");
        assertThatThrownBy(() -> Db.open(dir)).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE);
            assertThat(e.getMessage()).contains("not a Redoubt database");
        });
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("holiday.jpg");
        }
    }

    @Test
    void secondOpenOfALockedDirectoryFails() {
        Path dir = tmp.resolve("db");
        try (Db db = Db.open(dir)) {
            db.put(new byte[] {1}, new byte[] {2});
            assertThatThrownBy(() -> Db.open(dir)).isInstanceOfSatisfying(StorageException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.LOCKED));
            assertThat(db.get(new byte[] {1})).containsExactly(2);
        }
        try (Db db = Db.open(dir)) {
            assertThat(db.get(new byte[] {1})).containsExactly(2);
        }
    }

    @Test
    void missingCurrentPointsToRepair() throws IOException {
        Path dir = tmp.resolve("db");
        try (Db db = Db.open(dir)) {
            db.put(new byte[] {1}, new byte[] {2});
        }
        Files.delete(dir.resolve("CURRENT"));
        assertThatThrownBy(() -> Db.open(dir)).isInstanceOf(StorageException.class)
                .hasMessageContaining("without its CURRENT").hasMessageContaining("redoubt db repair");
    }

    @Test
    void corruptedTableBlockIsReportedWithFileAndOffset() throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        Path dir = Path.of("/db");
        try (Db db = Db.open(env, dir, DbModelTest.smallOptions().compression(false))) {
            for (int i = 0; i < 200; i++) {
                db.put(("key" + i).getBytes(), ("value" + i).getBytes());
            }
            db.flush();
        }
        Path table = env.list(dir.resolve("sst")).get(0);
        env.flipBit(table, 10, 3); // inside the first data block
        try (Db db = Db.open(env, dir, DbModelTest.smallOptions().compression(false))) {
            assertThatThrownBy(() -> db.get("key0".getBytes())).isInstanceOfSatisfying(StorageException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
                assertThat(e.getMessage()).contains(table.getFileName().toString()).containsPattern("(byte|offset) \\d+");
            });
        }
    }

    @Test
    void writesToAReadOnlyDatabaseAreRefused() {
        Path dir = tmp.resolve("db");
        try (Db db = Db.open(dir)) {
            db.put(new byte[] {1}, new byte[] {2});
        }
        try (Db db = Db.open(dir, DbOptions.defaults().readOnly(true))) {
            assertThat(db.get(new byte[] {1})).containsExactly(2);
            assertThatThrownBy(() -> db.put(new byte[] {3}, new byte[] {4})).isInstanceOf(StorageException.class)
                    .hasMessageContaining("read-only");
        }
    }
}
