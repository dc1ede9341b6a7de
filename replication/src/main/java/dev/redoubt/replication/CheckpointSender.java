package dev.redoubt.replication;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.engine.ReplicationPort;
import dev.redoubt.wal.SegmentFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary's bootstrap of a backup too far behind for the retained WAL (PostgreSQL's {@code pg_basebackup}):
 * a fresh checkpoint of the database (hard links to the live tables, a manifest, CURRENT), plus the WAL
 * segment holding the checkpoint LSN up to that LSN, so the backup's segments keep the primary's geometry.
 * The backup installs it, reopens, and streams from the checkpoint LSN. See {@link Frame} for the frames.
 */
final class CheckpointSender {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointSender.class);
    static final int FILE_CHUNK_BYTES = 1024 * 1024;

    private final Node node;
    private final FrameChannel channel;
    private final FrameBuilder f = new FrameBuilder();

    CheckpointSender(Node node, FrameChannel channel) {
        this.node = node;
        this.channel = channel;
    }

    /** Sends a checkpoint; returns its LSN, from which the backup will stream. */
    long send(String backup) throws IOException {
        ReplicationPort port = node.port();
        Path target = node.config().dir().resolve("replication").resolve("checkpoint-" + System.nanoTime());
        long started = System.nanoTime();
        try {
            long checkpointLsn = port.checkpoint(target);
            Path segment = port.walSegmentContaining(checkpointLsn);
            long base = SegmentFiles.parseSegmentBase(segment);
            List<String> names = new ArrayList<>();
            try (Stream<Path> files = Files.walk(target)) {
                files.filter(Files::isRegularFile).map(p -> target.relativize(p).toString().replace('\\', '/'))
                        .sorted(Comparator.comparing((String n) -> n.equals("CURRENT")).thenComparing(n -> n))
                        .forEach(names::add);
            }
            channel.send(f.start(FrameType.CHECKPOINT_BEGIN).u64(node.epoch()).u64(checkpointLsn).u16(names.size() + 1));
            channel.send(node.history().toFrame(f));
            long bytes = 0;
            bytes += sendFile("wal/" + SegmentFiles.segmentName(base), segment, checkpointLsn - base);
            for (String name : names) {
                Path file = target.resolve(name);
                bytes += sendFile(name, file, Files.size(file));
            }
            channel.send(f.start(FrameType.CHECKPOINT_END).u64(checkpointLsn));
            long millis = (System.nanoTime() - started) / 1_000_000;
            LOG.info("sent backup {} a checkpoint at LSN {}: {} files, {} bytes in {} ms", backup, checkpointLsn,
                    names.size() + 1, bytes, millis);
            return checkpointLsn;
        } finally {
            deleteTree(target);
        }
    }

    /** Sends the first {@code length} bytes of {@code file} as {@code name}. */
    private long sendFile(String name, Path file, long length) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long offset = 0;
            while (offset < length) {
                int n = (int) Math.min(FILE_CHUNK_BYTES, length - offset);
                f.start(FrameType.FILE_CHUNK).str(name).u64(offset).u32(n);
                ByteBuffer dst = f.ensure(n);
                ByteBuffer slice = dst.slice(dst.position(), n);
                while (slice.hasRemaining()) {
                    if (in.read(slice, offset + slice.position()) < 0) {
                        throw new IOException(file + " ended at " + (offset + slice.position()) + " of " + length);
                    }
                }
                crc.update(dst.slice(dst.position(), n));
                dst.position(dst.position() + n);
                channel.send(f);
                offset += n;
            }
        }
        channel.send(f.start(FrameType.FILE_END).str(name).u64(length).u32((int) crc.getValue()));
        return length;
    }

    /** Removes a checkpoint directory this sender made; a failure is logged (the next send removes it again). */
    static void deleteTree(Path root) {
        try {
            DirectoryTrees.deleteTree(root);
        } catch (IOException e) {
            LOG.warn("could not remove {}: {}", root, e.getMessage());
        }
    }
}
