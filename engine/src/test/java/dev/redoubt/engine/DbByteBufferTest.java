package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.Limits;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Keys and values as ByteBuffers (rocksdbjni's calls): the same data as the byte[] calls, buffers left as found. */
class DbByteBufferTest {

    @Test
    void putsFromDirectAndHeapBuffersAndGetsIntoABufferMatchTheArrayCalls() {
        try (Db db = Db.open(new SimulatedStorageEnv(), Path.of("/db"), DbModelTest.smallOptions())) {
            ByteBuffer key = ByteBuffer.allocateDirect(64);
            key.put(bytes("xxkey-1")).flip().position(2); // the key is "key-1": the remaining bytes
            ByteBuffer value = ByteBuffer.wrap(bytes("..value one..")).position(2).limit(11);
            db.put(key, value);
            assertThat(key.position()).isEqualTo(2);
            assertThat(value.position()).isEqualTo(2);
            assertThat(db.get(bytes("key-1"))).isEqualTo(bytes("value one"));

            ByteBuffer into = ByteBuffer.allocateDirect(32).position(3);
            assertThat(db.get(key, into)).isEqualTo(9);
            assertThat(into.position()).isEqualTo(3);
            assertThat(into.limit()).isEqualTo(12);
            byte[] got = new byte[9];
            into.get(3, got);
            assertThat(got).isEqualTo(bytes("value one"));

            ByteBuffer small = ByteBuffer.allocate(4);
            assertThat(db.get(key, small)).as("the full length, so the caller can retry").isEqualTo(9);
            assertThat(small.limit()).isEqualTo(4);
            assertThat(db.get(ByteBuffer.wrap(bytes("absent")), ByteBuffer.allocate(8))).isEqualTo(-1);

            db.delete(key);
            assertThat(db.get(bytes("key-1"))).isNull();
            db.write(new WriteBatch().put(ByteBuffer.wrap(bytes("a")), ByteBuffer.wrap(bytes("1")))
                    .put(bytes("b"), bytes("2")).delete(ByteBuffer.wrap(bytes("a"))));
            assertThat(db.get(bytes("a"))).isNull();
            assertThat(db.get(bytes("b"))).isEqualTo(bytes("2"));

            assertThatThrownBy(() -> db.put(ByteBuffer.allocate(Limits.MAX_KEY_BYTES + 1), ByteBuffer.allocate(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key of");
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
