package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The WAL stream's LZ4 frames: what is sent compressed, what is not, and hostile blocks refused. */
class ChunkCompressionTest {

    @Test
    void compressibleRecordsTravelAsWalChunkLz4AndInflateToTheSameBytes() throws Exception {
        byte[] records = new byte[64 * 1024];
        for (int i = 0; i < records.length; i++) {
            records[i] = (byte) ("record-" + (i / 100)).charAt(i % 7);
        }
        FrameBuilder chunk = chunk(records);
        FrameBuilder sent = new ChunkCompression().compress(chunk, 7, 1000, 1000 + records.length, 29,
                records.length, new FrameBuilder());
        assertThat(sent).isNotSameAs(chunk);
        assertThat(sent.body().remaining()).isLessThan(records.length / 2);
        Frame f = roundTrip(sent);
        assertThat(f.type()).isEqualTo(FrameType.WAL_CHUNK_LZ4);
        assertThat(f.lsn()).isEqualTo(7);
        assertThat(f.lsn()).isEqualTo(1000);
        assertThat(f.lsn()).isEqualTo(1000 + records.length);
        ByteBuffer inflated = new ChunkCompression().inflate(f);
        f.end();
        byte[] back = new byte[inflated.remaining()];
        inflated.get(back);
        assertThat(back).isEqualTo(records);
    }

    @Test
    void incompressibleOrSmallChunksTravelAsTheyAre() {
        byte[] random = new byte[8192];
        new Random(3).nextBytes(random);
        FrameBuilder chunk = chunk(random);
        ChunkCompression c = new ChunkCompression();
        assertThat(c.compress(chunk, 1, 0, random.length, 29, random.length, new FrameBuilder())).isSameAs(chunk);
        FrameBuilder small = chunk(new byte[100]);
        assertThat(c.compress(small, 1, 0, 100, 29, 100, new FrameBuilder())).isSameAs(small);
    }

    @Test
    void aBlockThatDoesNotInflateToItsAnnouncedLengthOrAnOutOfBoundsLengthIsRefused() throws Exception {
        byte[] records = new byte[4096];
        FrameBuilder sent = new ChunkCompression().compress(chunk(records), 1, 0, records.length, 29, records.length,
                new FrameBuilder());
        ByteBuffer body = sent.body();
        // Announce one byte more than the block holds.
        body.putInt(25, records.length + 1);
        Frame longer = roundTrip(body);
        skipLsns(longer);
        assertThatThrownBy(() -> new ChunkCompression().inflate(longer)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("inflates to");
        body.putInt(25, Frame.MAX_BODY_BYTES + 1);
        Frame huge = roundTrip(body);
        skipLsns(huge);
        assertThatThrownBy(() -> new ChunkCompression().inflate(huge)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("outside");
        body.putInt(25, records.length);
        body.put(33, (byte) 0xFF); // garbage in the block
        Frame garbled = roundTrip(body);
        skipLsns(garbled);
        assertThatThrownBy(() -> new ChunkCompression().inflate(garbled)).isInstanceOf(ProtocolException.class);
    }

    /** A WAL_CHUNK as the sender builds it: epoch, previous LSN, LSN, then the records blob (its bytes at offset 29). */
    private static FrameBuilder chunk(byte[] records) {
        return new FrameBuilder().start(FrameType.WAL_CHUNK).u64(1).u64(0).u64(records.length).blob(records);
    }

    private static void skipLsns(Frame f) throws ProtocolException {
        f.lsn();
        f.lsn();
        f.lsn();
    }

    private static Frame roundTrip(FrameBuilder f) throws Exception {
        return roundTrip(f.body());
    }

    private static Frame roundTrip(ByteBuffer body) throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        FrameChannel out = new FrameChannel(new ByteArrayInputStream(new byte[0]), wire, "test");
        out.authenticated();
        FrameBuilder copy = new FrameBuilder();
        ByteBuffer dst = copy.ensure(body.remaining());
        dst.put(body.duplicate());
        out.send(copy);
        FrameChannel in = new FrameChannel(new ByteArrayInputStream(wire.toByteArray()), OutputStream.nullOutputStream(), "test");
        in.authenticated();
        return in.receive();
    }
}
