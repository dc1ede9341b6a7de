package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.engine.KeyValue;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The byte formats of SCAN commands and of query answers: round trips, and hostile bytes refused. */
class RaftQueryFormatTest {
    private static final byte[] K = {'k'};

    @Test
    void aScanCommandRoundTripsWithAndWithoutAnEnd() {
        RaftCommand bounded = RaftCommand.decode(RaftCommand.scan(K, new byte[] {'z'}, 10).encode());
        assertThat(bounded.op()).isEqualTo(RaftCommand.SCAN);
        assertThat(bounded.key()).isEqualTo(K);
        assertThat(bounded.end()).isEqualTo(new byte[] {'z'});
        assertThat(bounded.limit()).isEqualTo(10);
        RaftCommand open = RaftCommand.decode(RaftCommand.scan(new byte[0], null, RaftCommand.MAX_SCAN_ENTRIES).encode());
        assertThat(open.end()).isNull();
        assertThat(open.limit()).isEqualTo(RaftCommand.MAX_SCAN_ENTRIES);
        // the documented layout, byte for byte
        assertThat(bytes(RaftCommand.scan(K, null, 2).encode())).isEqualTo(new byte[] {4, 0, 0, 0, 1, 'k', 0, 0, 0, 0, 2});
    }

    @Test
    void malformedScanCommandsAreRefused() {
        byte[][] bad = {
            {4, 0, 0, 0, 1, 'k'}, // no has-end flag
            {4, 0, 0, 0, 1, 'k', 2, 0, 0, 0, 1}, // has-end flag 2
            {4, 0, 0, 0, 1, 'k', 0, 0, 0, 0, 0}, // limit 0
            {4, 0, 0, 0, 1, 'k', 0, 0, 0, 3, (byte) 0xE9}, // limit 1001
            {4, 0, 0, 0, 1, 'k', 1, 0, 0, 0, 9, 'z', 0, 0, 0, 1}, // end longer than what follows
            {4, 0, 0, 0, 1, 'k', 0, 0, 0, 0, 1, 0}, // a trailing byte
            {4, 0, 0, 0, 1, 'k', 0, 0, 0}, // cut inside the limit
        };
        for (byte[] b : bad) {
            assertThatThrownBy(() -> RaftCommand.decode(ByteBuffer.wrap(b))).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> RaftCommand.scan(K, null, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void answersRoundTrip() {
        QueryAnswer.Value v = QueryAnswer.decodeValue(QueryAnswer.encodeValue(new byte[] {1, 2}, 42));
        assertThat(v.value()).isEqualTo(new byte[] {1, 2});
        assertThat(v.appliedIndex()).isEqualTo(42);
        assertThat(QueryAnswer.decodeValue(QueryAnswer.encodeValue(null, 7)).value()).isNull();
        QueryAnswer.Page p = QueryAnswer.decodePage(QueryAnswer.encodePage(
                List.of(new KeyValue(K, new byte[] {9}), new KeyValue(new byte[] {'l'}, new byte[0])), true, 5));
        assertThat(p.entries()).hasSize(2);
        assertThat(p.entries().get(1).key()).isEqualTo(new byte[] {'l'});
        assertThat(p.more()).isTrue();
        assertThat(p.appliedIndex()).isEqualTo(5);
    }

    @Test
    void malformedAnswersAreRefused() {
        byte[][] badValues = {{}, {1, 0, 0, 0}, {2, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 5}};
        for (byte[] b : badValues) {
            assertThatThrownBy(() -> QueryAnswer.decodeValue(ByteBuffer.wrap(b))).isInstanceOf(IllegalArgumentException.class);
        }
        byte[][] badPages = {
            {0, 0, 0, 0, 0, 0, 0, 0, 0}, // no count
            {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // more flag 2
            {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, (byte) 0xE9}, // 1001 entries
            {0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, // negative count
            {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5, 'k'}, // key cut short
            {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'k'}, // no value length
            {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, // trailing byte
        };
        for (byte[] b : badPages) {
            assertThatThrownBy(() -> QueryAnswer.decodePage(ByteBuffer.wrap(b))).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
