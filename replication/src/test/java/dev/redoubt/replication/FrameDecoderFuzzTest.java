package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalOptions;
import dev.redoubt.wal.WalReader;
import dev.redoubt.wal.WalRecordDescriptor;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;

/**
 * Hostile bytes for the decoders of the node protocol: a stream of frames as an authenticated peer could send
 * it (the largest bounds apply), each decoded by the parser its type has; and a WAL chunk as a primary could
 * send it, applied to a backup's log. Every input is decoded, or refused with {@link ProtocolException} /
 * {@link EOFException} / {@link ErrorCode#CORRUPTION}; never another exception, an unbounded allocation or a
 * hang. {@code mvn verify} replays the seed corpus; {@code JAZZER_FUZZ=1} fuzzes.
 */
class FrameDecoderFuzzTest {

    /**
     * The input is one frame body; it is framed with its true length and checksum, so the fuzzer spends its
     * time in the field decoders rather than on guessing CRCs (a bad checksum is refused before any decoder
     * runs; {@link HostilePeerTest} covers that path).
     */
    @FuzzTest(maxDuration = "30s")
    void hostileFrameBodiesDecodeOrAreRefused(byte[] body) throws Exception {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(body);
        ByteBuffer framed = ByteBuffer.allocate(8 + body.length).putInt(body.length).putInt((int) crc.getValue()).put(body);
        hostileFrameStreamsDecodeOrAreRefused(framed.array());
    }

    @FuzzTest(maxDuration = "30s")
    void hostileFrameStreamsDecodeOrAreRefused(byte[] bytes) throws Exception {
        FrameChannel channel = new FrameChannel(new ByteArrayInputStream(bytes), OutputStream.nullOutputStream(), "fuzz");
        channel.authenticated();
        try {
            for (int frames = 0; frames < 1000; frames++) {
                decode(channel.receive());
            }
        } catch (ProtocolException | EOFException | StorageException refused) {
            if (refused instanceof StorageException s) {
                // a RESPONSE frame carrying the node's error is decoded into that error: any code is fine
                assertThat(s.getMessage()).isNotNull();
            }
        }
    }

    private static void decode(Frame f) throws ProtocolException {
        switch (f.type()) {
            case REQUEST -> {
                ClientSession.Request r = ClientSession.parseRequest(f);
                assertThat(r.key() == null || r.key().length <= Limits.MAX_KEY_BYTES).isTrue();
            }
            case RESPONSE -> {
                NodeClient.Response r = NodeClient.parseResponse(f, 1);
                assertThat(r.entries().size()).isLessThanOrEqualTo(ClientSession.MAX_SCAN_ENTRIES);
            }
            case HISTORY -> assertThat(WalReceiver.readHistory(f)).isNotEmpty();
            case WAL_CHUNK -> {
                f.lsn();
                f.lsn();
                f.lsn();
                f.blobView(Frame.MAX_BODY_BYTES);
                f.end();
            }
            case WAL_CHUNK_LZ4 -> {
                f.lsn();
                f.lsn();
                f.lsn();
                assertThat(new ChunkCompression().inflate(f).remaining()).isPositive();
                f.end();
            }
            case FILE_CHUNK -> {
                Bootstrap.validateName(f.str());
                f.lsn();
                f.blobView(CheckpointSender.FILE_CHUNK_BYTES);
                f.end();
            }
            case ERROR -> f.expect(FrameType.WELCOME);
            default -> {
                // the other frames are fixed-size numbers and strings: read until the frame ends
                while (true) {
                    f.u8();
                }
            }
        }
    }

    /**
     * As below, with every record's CRC32C recomputed first, so the field checks behind the checksum (LSN,
     * epoch, lengths, type, version, segment geometry) are what gets fuzzed.
     */
    @FuzzTest(maxDuration = "30s")
    void hostileWalChunksWithValidChecksumsAreAppendedOrRefused(byte[] bytes) {
        org.agrona.concurrent.UnsafeBuffer b = new org.agrona.concurrent.UnsafeBuffer(bytes);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        for (int at = 0; at + WalRecordDescriptor.HEADER_LENGTH <= bytes.length; ) {
            byte type = WalRecordDescriptor.typeCode(b, at);
            int stored = WalRecordDescriptor.storedLength(b, at);
            boolean padding = type == dev.redoubt.wal.RecordType.PADDING.code();
            if (stored < 0 || (!padding && at + WalRecordDescriptor.HEADER_LENGTH + (long) stored > bytes.length)) {
                break;
            }
            int covered = WalRecordDescriptor.checksummedLength(type, stored);
            WalRecordDescriptor.putChecksum(b, at, WalRecordDescriptor.computeChecksum(crc, ByteBuffer.wrap(bytes), at, covered));
            at += padding ? WalRecordDescriptor.HEADER_LENGTH : WalRecordDescriptor.HEADER_LENGTH + stored;
        }
        hostileWalChunksAreAppendedOrRefusedWithoutChangingTheLog(bytes);
    }

    /**
     * One empty backup log serves every input it refuses: a refusal must leave it unchanged (no record, epoch 0,
     * still writable), which the next input relies on, so a refusal that changed something fails here or in
     * the following run. A log that accepted a chunk is closed and a fresh one opened (opening costs a thread
     * and buffers, about 150 us, which would otherwise cap this target at about 5,000 runs/s).
     */
    @FuzzTest(maxDuration = "30s")
    void hostileWalChunksAreAppendedOrRefusedWithoutChangingTheLog(byte[] bytes) {
        Wal wal = emptyBackupLog();
        ByteBuffer chunk = ByteBuffer.allocateDirect(bytes.length);
        chunk.put(bytes).flip();
        boolean accepted = false;
        try {
            long end = wal.appendReplicated(chunk);
            accepted = true;
            assertThat(end).isEqualTo(wal.writtenLsn());
        } catch (StorageException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(wal.writtenLsn()).isZero();
            assertThat(wal.epoch()).isZero();
        }
        try (WalReader reader = wal.newReader(0)) {
            while (reader.next()) {
                assertThat(reader.lsn()).isLessThan(wal.writtenLsn());
            }
            assertThat(reader.status()).isEqualTo(WalReader.Status.END);
        }
        if (accepted && wal.writtenLsn() > 0) {
            wal.close();
            backupLog = null;
        }
    }

    private static Wal backupLog;

    private static Wal emptyBackupLog() {
        if (backupLog == null) {
            backupLog = Wal.open(new SimulatedStorageEnv(), Path.of("/backup"), WalOptions.defaults().segmentBytes(8192));
        }
        return backupLog;
    }

    @AfterAll
    static void closeBackupLog() {
        if (backupLog != null) {
            backupLog.close();
            backupLog = null;
        }
    }
}
