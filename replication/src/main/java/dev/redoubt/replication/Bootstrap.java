package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A backup's side of a bootstrap: receives the primary's checkpoint into {@code <dir>/bootstrap/}, checks
 * every file's length and CRC32C, then replaces the database's files with it, crash-safely:
 *
 * <ol>
 *   <li>Every received file is fsynced; then the marker {@code bootstrap/COMPLETE} is written and fsynced.
 *       A crash before it: the staging directory is discarded at the next start and the old database stays.</li>
 *   <li>The old CURRENT is deleted first (the old database is now unopenable, never half-mixed with the new
 *       one), then its manifests, tables and WAL segments; then {@code bootstrap/CLEARED} is written.</li>
 *   <li>The new files are moved in, CURRENT last; then the staging directory is removed.</li>
 * </ol>
 *
 * {@link #finishInterrupted} at node start redoes whatever step a crash interrupted: with COMPLETE it repeats
 * step 2 unless CLEARED exists (files already moved in are no longer in staging, so step 3 only moves the
 * rest). The WAL segment is padded with zeros to the segment size, as the primary's preallocated one is.
 */
final class Bootstrap {
    static final String STAGING = "bootstrap";
    static final String COMPLETE = "COMPLETE";
    static final String CLEARED = "CLEARED";
    /** The only names a checkpoint may carry: no traversal, no absolute paths, nothing else in the directory. */
    static final Pattern NAME = Pattern.compile("CURRENT|MANIFEST-[0-9]{1,20}|sst/[0-9]{1,20}\\.sst|wal/[0-9]{20}\\.wal");
    /** A file larger than this in a checkpoint is refused (tables are at most a few hundred MiB). */
    static final long MAX_FILE_BYTES = 64L << 30;

    private final Path dir;
    private final Path staging;
    private final int segmentBytes;
    private final Map<String, Long> received = new HashMap<>();
    private final Map<String, CRC32C> crcs = new HashMap<>();
    private int filesDone;

    Bootstrap(Path dir, int segmentBytes) throws IOException {
        this.dir = dir;
        this.staging = dir.resolve(STAGING);
        this.segmentBytes = segmentBytes;
        CheckpointSender.deleteTree(staging);
        Files.createDirectories(staging.resolve("sst"));
        Files.createDirectories(staging.resolve("wal"));
    }

    static void validateName(String name) throws ProtocolException {
        if (!NAME.matcher(name).matches()) {
            throw new ProtocolException("refused a checkpoint file named '" + name + "' (only CURRENT, MANIFEST-n, sst/n.sst"
                    + " and wal/n.wal are allowed)");
        }
    }

    void chunk(String name, long offset, ByteBuffer data) throws IOException {
        validateName(name);
        long have = received.getOrDefault(name, 0L);
        if (offset != have) {
            throw new ProtocolException("checkpoint file " + name + ": a chunk at offset " + offset + " after " + have + " bytes");
        }
        int n = data.remaining();
        if (have + n > MAX_FILE_BYTES) {
            throw new ProtocolException("checkpoint file " + name + " exceeds " + MAX_FILE_BYTES + " bytes");
        }
        crcs.computeIfAbsent(name, k -> new CRC32C()).update(data.duplicate());
        try (FileChannel out = FileChannel.open(staging.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long at = offset;
            while (data.hasRemaining()) {
                at += out.write(data, at);
            }
        }
        received.put(name, have + n);
    }

    /** A file is complete: its size and CRC32C must match what the primary computed; then it is fsynced. */
    void fileEnd(String name, long size, int crc) throws IOException {
        validateName(name);
        long have = received.getOrDefault(name, 0L);
        int mine = (int) crcs.getOrDefault(name, new CRC32C()).getValue();
        if (have != size || mine != crc) {
            throw new ProtocolException("checkpoint file " + name + " arrived with " + have + " bytes and CRC32C "
                    + Integer.toHexString(mine) + ", expected " + size + " bytes and " + Integer.toHexString(crc));
        }
        Path file = staging.resolve(name);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            if (name.startsWith("wal/")) {
                padWithZeros(out, size);
            }
            out.force(true);
        }
        received.put(name, -1L); // done: a later chunk of the same name is refused by the offset check
        filesDone++;
    }

    /** A WAL segment is a full, zero-filled segment on the primary; the copy must be too. */
    private void padWithZeros(FileChannel out, long size) throws IOException {
        if (size > segmentBytes) {
            throw new ProtocolException("a WAL segment of " + size + " bytes exceeds the segment size " + segmentBytes);
        }
        ByteBuffer zeros = ByteBuffer.allocate(64 * 1024);
        long at = size;
        while (at < segmentBytes) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), segmentBytes - at));
            at += out.write(zeros, at);
        }
    }

    /** Every announced file arrived: marks the staging complete, durably; {@link #install} then swaps it in. */
    void complete(int announcedFiles) throws IOException {
        if (filesDone != announcedFiles || !Files.exists(staging.resolve("CURRENT"))) {
            throw new ProtocolException("the checkpoint ended after " + filesDone + " of " + announcedFiles + " files");
        }
        fsyncDir(staging.resolve("sst"));
        fsyncDir(staging.resolve("wal"));
        Files.write(staging.resolve(COMPLETE), new byte[0]);
        try (FileChannel c = FileChannel.open(staging.resolve(COMPLETE), StandardOpenOption.WRITE)) {
            c.force(true);
        }
        fsyncDir(staging);
    }

    /** At node start: finishes an install a crash interrupted, or discards an incomplete download. */
    static boolean finishInterrupted(Path dir) {
        Path staging = dir.resolve(STAGING);
        if (!Files.exists(staging)) {
            return false;
        }
        if (!Files.exists(staging.resolve(COMPLETE))) {
            CheckpointSender.deleteTree(staging);
            return false;
        }
        try {
            install(dir);
            return true;
        } catch (IOException e) {
            throw StorageException.fromIo("finishing the bootstrap in " + staging, e);
        }
    }

    /** Replaces the database's files with the staged checkpoint. REQUIRES: the database is closed. */
    static void install(Path dir) throws IOException {
        Path staging = dir.resolve(STAGING);
        if (!Files.exists(staging.resolve(CLEARED))) {
            Files.deleteIfExists(dir.resolve("CURRENT"));
            fsyncDir(dir);
            for (Path sub : List.of(dir.resolve("sst"), dir.resolve("wal"))) {
                if (Files.isDirectory(sub)) {
                    try (Stream<Path> files = Files.list(sub)) {
                        for (Path p : files.toList()) {
                            Files.deleteIfExists(p);
                        }
                    }
                    fsyncDir(sub);
                }
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.filter(p -> p.getFileName().toString().startsWith("MANIFEST-")).toList()) {
                    Files.delete(p);
                }
            }
            Files.write(staging.resolve(CLEARED), new byte[0]);
            fsyncDir(staging);
            fsyncDir(dir);
        }
        for (String sub : List.of("sst", "wal")) {
            Files.createDirectories(dir.resolve(sub));
            try (Stream<Path> files = Files.list(staging.resolve(sub))) {
                for (Path p : files.toList()) {
                    Files.move(p, dir.resolve(sub).resolve(p.getFileName()), StandardCopyOption.ATOMIC_MOVE);
                }
            }
            fsyncDir(dir.resolve(sub));
        }
        try (Stream<Path> files = Files.list(staging)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("MANIFEST-")).toList()) {
                Files.move(p, dir.resolve(p.getFileName()), StandardCopyOption.ATOMIC_MOVE);
            }
        }
        fsyncDir(dir);
        if (Files.exists(staging.resolve("CURRENT"))) {
            Files.move(staging.resolve("CURRENT"), dir.resolve("CURRENT"), StandardCopyOption.ATOMIC_MOVE);
        }
        fsyncDir(dir);
        CheckpointSender.deleteTree(staging);
        fsyncDir(dir);
    }

    private static void fsyncDir(Path d) throws IOException {
        try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            if (!Files.isDirectory(d)) {
                throw new StorageException(ErrorCode.IO, d + " is not a directory", e);
            }
            throw e;
        }
    }
}
