package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.ReplicationPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backup's connection to its primary (PostgreSQL's walreceiver): authenticates, asks for the stream from
 * its own end LSN and epoch, and for every WAL_CHUNK checks continuity (the chunk's previous LSN must be this
 * log's end, its epoch no older than this node's), writes the records byte for byte, fsyncs and applies them
 * ({@link ReplicationPort#appendReplicated}), then acknowledges. Reconnects with a capped backoff; stops for
 * good when the primary says the logs diverged (the operator must run {@code redoubt node rejoin}).
 */
final class WalReceiver implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WalReceiver.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    /** Three missed heartbeats and the primary is presumed gone; the receiver reconnects. */
    /** Chunks already waiting are appended together up to this many bytes (one fsync for the group). */
    static final int GROUP_BYTES = 8 * 1024 * 1024;
    private static final int SILENCE_TIMEOUT_MILLIS = (int) (WalSender.HEARTBEAT_MILLIS * 6);

    private final Node node;
    private final InetSocketAddress primary;
    private volatile boolean running = true;
    private volatile FrameChannel channel;
    private volatile boolean connected;
    private volatile long primaryDurable;
    private volatile long lastFrameMillis;
    private volatile String lastProblem;
    private volatile long divergedAt = -1;
    private ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
    /** Inflates WAL_CHUNK_LZ4 frames (this backup offers LZ4 in its STREAM_FROM). */
    private final ChunkCompression compression = new ChunkCompression();

    WalReceiver(Node node, InetSocketAddress primary) {
        this.node = node;
        this.primary = primary;
    }

    @Override
    public void run() {
        long backoff = 100;
        while (running) {
            try {
                session();
                backoff = 100;
            } catch (IOException | StorageException e) {
                lastProblem = e.getMessage() != null ? e.getMessage() : e.toString();
                if (running) {
                    LOG.info("replication from {} interrupted: {}; retrying in {} ms", primary, lastProblem, backoff);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                connected = false;
                FrameChannel c = channel;
                if (c != null) {
                    c.close();
                }
            }
            if (divergedAt >= 0) {
                LOG.error("this backup's log diverged from the primary's at LSN {}: it holds records the primary never"
                        + " had. Stop the node and run `redoubt node rejoin`", divergedAt);
                return;
            }
            sleep(backoff);
            backoff = Math.min(2_000, backoff * 2);
        }
    }

    private void session() throws IOException, InterruptedException {
        ReplicationPort port = node.port();
        Socket socket = PairSockets.connect(primary, CONNECT_TIMEOUT_MILLIS, node.config().tls());
        FrameChannel c = new FrameChannel(socket);
        channel = c;
        if (!running) {
            return;
        }
        Handshake.Welcome welcome = Handshake.asClient(c, node.secret(), Handshake.PURPOSE_REPLICA);
        if (welcome.segmentBytes() != port.segmentBytes()) {
            running = false;
            throw new StorageException(ErrorCode.INVALID_STATE, "the primary uses " + welcome.segmentBytes()
                    + "-byte WAL segments and this backup " + port.segmentBytes() + "; start the backup with"
                    + " --segment-bytes " + welcome.segmentBytes());
        }
        FrameBuilder f = new FrameBuilder();
        c.send(f.start(FrameType.STREAM_FROM).u64(node.streamEpoch()).u64(port.writtenLsn()).str(node.name())
                .u8(ChunkCompression.FLAG_LZ4));
        c.receiveTimeout(SILENCE_TIMEOUT_MILLIS);
        connected = true;
        lastProblem = null;
        Frame next = null;
        while (running) {
            Frame frame = next != null ? next : c.receive();
            next = null;
            lastFrameMillis = System.currentTimeMillis();
            switch (frame.type()) {
                case WAL_CHUNK, WAL_CHUNK_LZ4 -> next = receiveChunks(c, port, frame, f);
                case CHECKPOINT_BEGIN -> {
                    receiveCheckpoint(c, frame, welcome.segmentBytes());
                    return; // reconnect from the checkpoint LSN
                }
                case HEARTBEAT -> {
                    long epoch = frame.lsn();
                    checkEpoch(port, epoch);
                    primaryDurable = frame.lsn();
                    frame.u64();
                    frame.end();
                    acknowledge(port, f);
                }
                case HISTORY -> node.history().replace(readHistory(frame));
                case DIVERGED -> {
                    frame.lsn();
                    divergedAt = frame.lsn();
                    frame.end();
                    running = false;
                    return;
                }
                case ERROR -> frame.expect(FrameType.WAL_CHUNK); // throws with the primary's message
                default -> throw new ProtocolException("unexpected " + frame.type() + " frame from the primary");
            }
        }
    }

    /** Receives a bootstrap (see {@link CheckpointSender}) and has the node install it. */
    private void receiveCheckpoint(FrameChannel c, Frame begin, int segmentBytes) throws IOException {
        begin.lsn();
        long checkpointLsn = begin.lsn();
        int files = begin.u16();
        begin.end();
        LOG.info("the primary sends a checkpoint at LSN {} ({} files): this backup's log is too far behind",
                checkpointLsn, files);
        Bootstrap bootstrap = new Bootstrap(node.config().dir(), segmentBytes);
        while (true) {
            Frame frame = c.receive();
            switch (frame.type()) {
                case HISTORY -> node.history().replace(readHistory(frame));
                case FILE_CHUNK -> {
                    String name = frame.str();
                    long offset = frame.lsn();
                    ByteBuffer data = frame.blobView(CheckpointSender.FILE_CHUNK_BYTES);
                    frame.end();
                    if (data == null) {
                        throw new ProtocolException("a FILE_CHUNK without data");
                    }
                    bootstrap.chunk(name, offset, data);
                }
                case FILE_END -> {
                    String name = frame.str();
                    long size = frame.lsn();
                    int crc = frame.u32();
                    frame.end();
                    bootstrap.fileEnd(name, size, crc);
                }
                case CHECKPOINT_END -> {
                    long end = frame.lsn();
                    frame.end();
                    if (end != checkpointLsn) {
                        throw new ProtocolException("CHECKPOINT_END at LSN " + end + " for a checkpoint at " + checkpointLsn);
                    }
                    bootstrap.complete(files);
                    node.installBootstrap();
                    LOG.info("installed the primary's checkpoint at LSN {}", checkpointLsn);
                    return;
                }
                default -> throw new ProtocolException("unexpected " + frame.type() + " frame during a checkpoint");
            }
        }
    }

    /**
     * Receives {@code first} and every WAL_CHUNK already waiting behind it (up to {@value #GROUP_BYTES} bytes),
     * checks that each continues the one before, and appends them as one group: one write and one fsync for
     * all of them (the backup's group commit), then one ACK. Returns the non-chunk frame that ended the group,
     * if one was read, for the caller to handle.
     */
    private Frame receiveChunks(FrameChannel c, ReplicationPort port, Frame first, FrameBuilder f) throws IOException {
        long expected = port.writtenLsn();
        chunk.clear();
        Frame frame = first;
        while (true) {
            expected = addChunk(port, frame, expected);
            if (c.available() <= 0 || chunk.position() >= GROUP_BYTES) {
                frame = null;
                break;
            }
            frame = c.receive();
            if (frame.type() != FrameType.WAL_CHUNK && frame.type() != FrameType.WAL_CHUNK_LZ4) {
                break;
            }
        }
        chunk.flip();
        long newEnd = port.appendReplicated(chunk);
        if (newEnd != expected) {
            throw new ProtocolException("the WAL chunks said they end at LSN " + expected + " but their records end at " + newEnd);
        }
        primaryDurable = Math.max(primaryDurable, newEnd);
        acknowledge(port, f);
        return frame;
    }

    /** Checks one WAL_CHUNK (or WAL_CHUNK_LZ4, inflated) against the expected LSN and copies its records after the group's; returns its end. */
    private long addChunk(ReplicationPort port, Frame frame, long expected) throws IOException {
        long epoch = frame.lsn();
        long previous = frame.lsn();
        long end = frame.lsn();
        ByteBuffer records = frame.type() == FrameType.WAL_CHUNK_LZ4 ? compression.inflate(frame)
                : frame.blobView(Frame.MAX_BODY_BYTES);
        frame.end();
        checkEpoch(port, epoch);
        if (previous != expected || records == null || end < previous) {
            throw new ProtocolException("a WAL chunk for LSN " + previous + ".." + end + " does not continue this"
                    + " backup's log, which ends at LSN " + expected);
        }
        if (chunk.remaining() < records.remaining()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(chunk.position() + records.remaining(), chunk.capacity() * 2));
            chunk.flip();
            bigger.put(chunk);
            chunk = bigger;
        }
        chunk.put(records);
        return end;
    }

    private void acknowledge(ReplicationPort port, FrameBuilder f) throws IOException {
        long end = port.writtenLsn();
        channel.send(f.start(FrameType.ACK).u64(port.epoch()).u64(end).u64(port.durableLsn()).u64(end));
    }

    private static void checkEpoch(ReplicationPort port, long epoch) throws ProtocolException {
        if (epoch < port.epoch()) {
            throw new ProtocolException("the primary is at epoch " + epoch + ", older than this backup's "
                    + port.epoch() + ": it is a deposed primary");
        }
    }

    static List<EpochHistory.Entry> readHistory(Frame frame) throws ProtocolException {
        int n = frame.u16();
        if (n < 1 || n > EpochHistory.MAX_ENTRIES) {
            throw new ProtocolException("an epoch history of " + n + " entries");
        }
        List<EpochHistory.Entry> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(new EpochHistory.Entry(frame.lsn(), frame.lsn()));
        }
        frame.end();
        try {
            EpochHistory.validate(list);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(e.getMessage());
        }
        return list;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean connected() {
        return connected;
    }

    long primaryDurable() {
        return primaryDurable;
    }

    long lastFrameMillis() {
        return lastFrameMillis;
    }

    String lastProblem() {
        return lastProblem;
    }

    boolean isRunning() {
        return running;
    }

    long divergedAt() {
        return divergedAt;
    }

    InetSocketAddress primary() {
        return primary;
    }

    void stop() {
        running = false;
        FrameChannel c = channel;
        if (c != null) {
            c.close();
        }
    }
}
