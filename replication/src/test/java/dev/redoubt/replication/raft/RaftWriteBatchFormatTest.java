package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The byte format of a Raft entry's writes ({@link RaftWriteBatch}): round trips, layout, and hostile bytes. */
class RaftWriteBatchFormatTest {
    @Test
    void aBatchRoundTripsItsWritesInOrder() {
        List<RaftCommand> writes = List.of(RaftCommand.put(b("a"), b("1")), RaftCommand.delete(b("b")),
                RaftCommand.put(b("a"), new byte[0]), RaftCommand.put(new byte[0], b("empty key")));
        RaftWriteBatch again = RaftWriteBatch.decode(new RaftWriteBatch(writes).encode());
        assertThat(again.writes()).hasSize(4);
        for (int i = 0; i < writes.size(); i++) {
            assertThat(again.writes().get(i).op()).isEqualTo(writes.get(i).op());
            assertThat(again.writes().get(i).key()).isEqualTo(writes.get(i).key());
            assertThat(again.writes().get(i).value()).isEqualTo(writes.get(i).value());
        }
    }

    @Test
    void aBatchHasTheDocumentedLayout() {
        byte[] encoded = bytes(new RaftWriteBatch(List.of(RaftCommand.put(b("k"), b("v")), RaftCommand.delete(b("d"))))
                .encode());
        assertThat(encoded).isEqualTo(new byte[] {5, 0, 0, 0, 2, 1, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'v', 2, 0, 0, 0, 1, 'd'});
    }

    @Test
    void aSingleWriteTravelsAsTheCommandItIsSoOlderEntriesDecodeTheSameWay() {
        RaftCommand put = RaftCommand.put(b("k"), b("v"));
        assertThat(bytes(new RaftWriteBatch(List.of(put)).encode())).isEqualTo(bytes(put.encode()));
        RaftWriteBatch old = RaftWriteBatch.decode(RaftCommand.delete(b("gone")).encode());
        assertThat(old.writes()).singleElement().satisfies(w -> {
            assertThat(w.op()).isEqualTo(RaftCommand.DELETE);
            assertThat(w.key()).isEqualTo(b("gone"));
        });
    }

    @Test
    void readsAndNestedBatchesAreNoWrites() {
        assertThatThrownBy(() -> RaftWriteBatch.decode(RaftCommand.get(b("k")).encode()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read");
        byte[] getInside = {5, 0, 0, 0, 1, 3, 0, 0, 0, 1, 'k'};
        byte[] batchInside = {5, 0, 0, 0, 1, 5, 0, 0, 0, 1, 2, 0, 0, 0, 0};
        for (byte[] b : List.of(getInside, batchInside)) {
            assertThatThrownBy(() -> RaftWriteBatch.decode(ByteBuffer.wrap(b))).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> new RaftWriteBatch(List.of(RaftCommand.get(b("k")))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void countsOutOfBoundsAreRefusedBeforeAnythingIsAllocated() {
        byte[][] bad = {
            {5, 0, 0, 0, 0}, // no writes
            {5, 0, 0, 0x10, 1}, // 4097 writes
            {5, 0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, // a count no entry could hold
            {5, 0, 0, 0, 3, 2, 0, 0, 0, 0}, // 3 writes said, bytes for 1
            {5, 0, 0}, // cut inside the count
        };
        for (byte[] b : bad) {
            assertThatThrownBy(() -> RaftWriteBatch.decode(ByteBuffer.wrap(b))).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> new RaftWriteBatch(List.of())).isInstanceOf(IllegalArgumentException.class);
        List<RaftCommand> tooMany = new ArrayList<>();
        for (int i = 0; i <= RaftWriteBatch.MAX_WRITES; i++) {
            tooMany.add(RaftCommand.delete(b("k")));
        }
        assertThatThrownBy(() -> new RaftWriteBatch(tooMany)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBatchCutAtAnyByteOrFollowedByAnyByteIsRefused() {
        byte[] whole = bytes(new RaftWriteBatch(List.of(RaftCommand.put(b("key"), b("value")), RaftCommand.delete(b("x"))))
                .encode());
        for (int cut = 0; cut < whole.length; cut++) {
            byte[] part = Arrays.copyOf(whole, cut);
            assertThatThrownBy(() -> RaftWriteBatch.decode(ByteBuffer.wrap(part)))
                    .as("cut at %d", cut).isInstanceOf(IllegalArgumentException.class);
        }
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        assertThatThrownBy(() -> RaftWriteBatch.decode(ByteBuffer.wrap(longer))).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] b(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
