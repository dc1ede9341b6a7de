package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.ReplicationPort;
import dev.redoubt.wal.WalReader;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary's side of one backup connection (PostgreSQL's walsender), after the handshake: reads the
 * backup's STREAM_FROM, checks that its log is a prefix of this node's history, then streams every record from
 * there as WAL_CHUNK frames (records exactly as stored, padding as its header) while a second thread reads the
 * backup's ACKs. With automatic failover ({@link Node#shipsBeforeFsync}) records are shipped as soon as they are
 * written to the OS, before this node's fsync completes, so the backup's fsync overlaps the primary's (a
 * {@code REMOTE_DURABLE} write waits for both). A backup may then hold records its primary loses in a power cut;
 * every primary start is a new epoch from the failover group, so such a tail lies past the end of its epoch in
 * the restarted primary's history and the backup is told DIVERGED when it reconnects (and rejoins by itself),
 * never streamed over silently. Without automatic failover only durable records are shipped, so a backup never
 * holds a record its primary could lose.
 */
final class WalSender {
    private static final Logger LOG = LoggerFactory.getLogger(WalSender.class);
    /** Records are packed up to this many bytes per frame (a larger record travels alone). */
    static final int CHUNK_BYTES = 4 * 1024 * 1024;
    static final long HEARTBEAT_MILLIS = 500;

    private final Node node;
    private final FrameChannel channel;
    private final ReplicationPort port;
    /** LZ4 for this backup's chunks, when it asked for them (null: plain WAL_CHUNKs). */
    private ChunkCompression compression;
    private final FrameBuilder compressed = new FrameBuilder();
    // Where the last packChunk put its records in the frame, and at which epoch.
    private int packedRecordsAt;
    private int packedBytes;
    private long packedEpoch;

    WalSender(Node node, FrameChannel channel) {
        this.node = node;
        this.channel = channel;
        this.port = node.port();
    }

    void run() throws IOException, InterruptedException {
        Frame request = channel.receive();
        if (request.type() == FrameType.FIND_FORK) {
            answerFork(request);
            return;
        }
        request.expect(FrameType.STREAM_FROM);
        long backupEpoch = request.lsn();
        long from = request.lsn();
        String name = request.str();
        int flags = request.more() ? request.u8() : 0;
        request.end();
        compression = (flags & ChunkCompression.FLAG_LZ4) != 0 ? new ChunkCompression() : null;
        FrameBuilder f = new FrameBuilder();
        long epoch = node.epoch();
        if (backupEpoch > epoch) {
            node.fence(backupEpoch, "backup " + name + " at " + channel.peer() + " is at epoch " + backupEpoch);
            refuse(f, ErrorCode.FENCED, "this node's epoch " + epoch + " is older than yours (" + backupEpoch + ")");
            return;
        }
        long fork = Math.min(node.history().endOf(backupEpoch), node.shippableLsn());
        if (!node.history().contains(backupEpoch) || from > fork) {
            channel.send(f.start(FrameType.DIVERGED).u64(epoch).u64(node.history().contains(backupEpoch) ? fork : 0));
            LOG.warn("backup {} at {} diverged: its log ends at LSN {} in epoch {}, past the fork at LSN {}; it must rejoin",
                    name, channel.peer(), from, backupEpoch, fork);
            return;
        }
        if (from < port.startLsn()) {
            LOG.info("backup {} at {} needs LSN {} but the WAL starts at LSN {}: sending a checkpoint", name,
                    channel.peer(), from, port.startLsn());
            // Registered first, at the current checkpoint, so a flush meanwhile keeps the WAL the copy will need.
            BackupProgress.Backup backup = node.progress().connect(name, channel.peer(), port.checkpointLsn());
            try {
                long lsn = new CheckpointSender(node, channel).send(name);
                node.progress().acknowledge(backup, lsn, lsn, lsn, port.durableLsn());
            } finally {
                node.progress().disconnect(backup);
            }
            return;
        }
        channel.send(node.history().toFrame(f));
        BackupProgress.Backup backup = node.progress().connect(name, channel.peer(), from);
        LOG.info("backup {} at {} streams from LSN {} (epoch {})", name, channel.peer(), from, backupEpoch);
        Thread acks = new Thread(() -> readAcks(backup), "redoubt-acks-" + name);
        acks.setDaemon(true);
        acks.start();
        try {
            stream(f, from);
        } finally {
            node.progress().disconnect(backup);
            channel.close();
            acks.join(1000);
        }
    }

    /**
     * Where a log that ends at {@code end} in {@code epoch} leaves this node's history: the start of the next
     * epoch, or this node's durable end, whichever comes first (records past it were never on this primary);
     * {@code end} itself when nothing diverged.
     */
    private void answerFork(Frame request) throws IOException {
        long epoch = request.lsn();
        long end = request.lsn();
        request.end();
        long fork = node.history().contains(epoch) ? Math.min(end, Math.min(node.history().endOf(epoch), node.shippableLsn())) : 0;
        channel.send(new FrameBuilder().start(FrameType.FORK).u64(node.epoch()).u64(fork));
    }

    private void refuse(FrameBuilder f, ErrorCode code, String why) throws IOException {
        LOG.warn("refused a backup at {}: {}", channel.peer(), why);
        channel.send(f.start(FrameType.ERROR).u16(code.ordinal()).str(why));
    }

    private void stream(FrameBuilder f, long from) throws IOException, InterruptedException {
        long position = from;
        long lastSend = System.currentTimeMillis();
        // One reader for the whole session: it follows the durable end, so nothing is re-read or re-opened.
        try (WalReader reader = node.shipsBeforeFsync() ? port.newShippableRawReader(from)
                : port.newDurableRawReader(from)) {
            while (!channel.isClosed() && node.isPrimary()) {
                long end = packChunk(f, reader, position);
                if (end > position) {
                    channel.send(compression == null ? f : compression.compress(f, packedEpoch, position, end,
                            packedRecordsAt, packedBytes, compressed));
                    position = end;
                    lastSend = System.currentTimeMillis();
                    continue;
                }
                if (System.currentTimeMillis() - lastSend >= HEARTBEAT_MILLIS) {
                    channel.send(f.start(FrameType.HEARTBEAT).u64(node.epoch()).u64(port.durableLsn())
                            .u64(System.currentTimeMillis()));
                    lastSend = System.currentTimeMillis();
                }
                node.signal().await(2);
            }
        }
    }

    /**
     * Fills {@code f} with a WAL_CHUNK of the durable records the reader has from {@code from}, about
     * {@value #CHUNK_BYTES} bytes (the record that crosses it is included); returns the chunk's end LSN.
     */
    private long packChunk(FrameBuilder f, WalReader reader, long from) {
        packedEpoch = node.epoch();
        f.start(FrameType.WAL_CHUNK).u64(packedEpoch).u64(from);
        int endAt = f.position();
        f.u64(from);
        int lengthAt = f.position();
        f.u32(0);
        packedRecordsAt = f.position();
        int bytes = 0;
        long end = from;
        while (bytes < CHUNK_BYTES && reader.next()) {
            java.nio.ByteBuffer dst = f.ensure(reader.recordLength());
            reader.recordBuffer().getBytes(reader.recordIndex(), dst, dst.position(), reader.recordLength());
            dst.position(dst.position() + reader.recordLength());
            bytes += reader.recordLength();
            end = reader.nextLsn();
        }
        if (reader.status() == WalReader.Status.CORRUPT) {
            throw new StorageException(ErrorCode.CORRUPTION, "the primary's own WAL is damaged: " + reader.problem());
        }
        f.putU32At(lengthAt, bytes);
        f.putU64At(endAt, end);
        packedBytes = bytes;
        return end;
    }

    private void readAcks(BackupProgress.Backup backup) {
        try {
            while (true) {
                Frame ack = channel.receive().expect(FrameType.ACK);
                long epoch = ack.lsn();
                long received = ack.lsn();
                long durable = ack.lsn();
                long applied = ack.lsn();
                ack.end();
                if (epoch > node.epoch()) {
                    node.fence(epoch, "backup " + backup.name + " acknowledged at epoch " + epoch);
                    break;
                }
                node.progress().acknowledge(backup, received, durable, applied, port.durableLsn());
            }
        } catch (IOException e) {
            if (!channel.isClosed()) {
                LOG.info("backup {} at {} disconnected: {}", backup.name, channel.peer(), e.getMessage());
            }
        } finally {
            channel.close();
        }
    }
}
