package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.ReplicationPort;
import dev.redoubt.replication.raft.RaftTls;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.SegmentFiles;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalOptions;
import dev.redoubt.wal.WalReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a stopped former primary into a backup of the new primary (PostgreSQL's {@code pg_rewind}): asks the
 * primary where this node's log leaves its history (the fork LSN), then discards everything after it and
 * reports exactly what that was.
 *
 * <ul>
 *   <li>Fork at or past the end: nothing diverged; start the node as a backup.</li>
 *   <li>Fork at or after the checkpoint: the divergent records are only in the WAL. First the segments that hold
 *       them are copied, fsynced, to {@code lost/rejoin-<epoch>-<fork LSN>/wal/} (a log directory
 *       {@code redoubt wal dump DIR --from FORK --keys --values} reads: nothing written is gone, keys and values
 *       included); then {@code Wal.truncateFrom} cuts them (crash-safe: a crash leaves an LSN prefix), after
 *       listing them in the report. A crash between the two leaves the copy and the uncut log: running the
 *       rejoin again copies again (over the earlier copy) and cuts.</li>
 *   <li>Fork below the checkpoint: divergent changes reached the tables and cannot be cut out. The whole
 *       database is moved aside to {@code <dir>.diverged-<epoch>-<millis>} (kept, not deleted) and an empty
 *       directory is left; the backup then bootstraps from the primary's checkpoint.</li>
 * </ul>
 */
public final class Rejoin {
    /** At most this many discarded keys are listed in the report (the count is always exact). */
    static final int MAX_LISTED_KEYS = 1000;

    /**
     * What a rejoin did. {@code action}: "none", "truncated" or "moved-aside". {@code savedTo}: where the
     * discarded records were copied (truncated), or null.
     */
    public record Report(String action, long primaryEpoch, long forkLsn, long endLsn, long discardedBytes,
                         long discardedRecords, long discardedBatches, List<byte[]> discardedKeys, String movedTo,
                         String savedTo) {
    }

    private Rejoin() {
    }

    public static Report run(Path dir, InetSocketAddress primary, PeerSecret secret) throws IOException {
        return run(dir, primary, secret, null);
    }

    /** As above, over mutual TLS with the group credential {@code tls} (null: plain TCP). */
    public static Report run(Path dir, InetSocketAddress primary, PeerSecret secret, RaftTls tls) throws IOException {
        return run(FileStorageEnv.INSTANCE, dir, primary, secret, tls);
    }

    /**
     * As above, every file reached through {@code env} (the node's own file layer: the fault-injecting and
     * power-loss layers then cover the rejoin too).
     */
    public static Report run(StorageEnv env, Path dir, InetSocketAddress primary, PeerSecret secret, RaftTls tls)
            throws IOException {
        long end;
        long epoch;
        long checkpoint;
        int segmentBytes;
        EpochHistory history = EpochHistory.load(env, dir);
        try (Db db = Db.open(env, dir, DbOptions.defaults())) {
            ReplicationPort port = db.replication();
            end = port.writtenLsn();
            epoch = history.epochAt(end, port.epoch());
            checkpoint = port.checkpointLsn();
            segmentBytes = port.segmentBytes();
        }
        long[] fork = askFork(primary, secret, tls, epoch, end);
        long primaryEpoch = fork[0];
        long forkLsn = fork[1];
        if (primaryEpoch < epoch) {
            throw new StorageException(ErrorCode.INVALID_STATE, "the node at " + primary + " is at epoch " + primaryEpoch
                    + ", older than this node's " + epoch + ": it is not the current primary");
        }
        if (forkLsn >= end) {
            return new Report("none", primaryEpoch, end, end, 0, 0, 0, List.of(), null, null);
        }
        if (forkLsn < checkpoint) {
            Path aside = dir.resolveSibling(dir.getFileName() + ".diverged-" + epoch + "-" + System.currentTimeMillis());
            env.rename(dir, aside);
            env.createDirectories(dir);
            env.syncDirectory(dir.toAbsolutePath().getParent());
            return new Report("moved-aside", primaryEpoch, forkLsn, end, end - forkLsn, -1, -1, List.of(),
                    aside.toString(), null);
        }
        ReplicationPort.lowerRecordedWalEnd(env, dir, forkLsn);
        WalOptions walOptions = WalOptions.defaults().segmentBytes(segmentBytes);
        try (Wal wal = Wal.open(env, dir, walOptions)) {
            long records = 0;
            long batches = 0;
            List<byte[]> keys = new ArrayList<>();
            try (WalReader reader = wal.newReader(forkLsn)) {
                while (reader.next()) {
                    records++;
                    if (reader.type() == RecordType.WRITE_BATCH) {
                        batches++;
                        for (byte[] k : ReplicationPort.keysOf(reader.payload(), reader.payloadOffset(),
                                reader.payloadLength(), reader.lsn())) {
                            if (keys.size() < MAX_LISTED_KEYS) {
                                keys.add(k);
                            }
                        }
                    }
                }
            }
            Path saved = saveDiscarded(env, dir, epoch, forkLsn);
            long discarded = wal.truncateFrom(forkLsn);
            List<EpochHistory.Entry> kept = history.entries().stream().filter(e -> e.startLsn() < forkLsn
                    || e.epoch() == 0).toList();
            history.replace(kept);
            return new Report("truncated", primaryEpoch, forkLsn, end, discarded, records, batches, keys, null,
                    saved.toString());
        }
    }

    /**
     * Copies every segment holding bytes at or after {@code forkLsn} to {@code lost/rejoin-<epoch>-<forkLsn>/wal/}
     * under its own name, fsynced (files, then directories), and returns the copy's directory.
     */
    static Path saveDiscarded(StorageEnv env, Path dir, long epoch, long forkLsn) throws IOException {
        Path lost = dir.resolve(Wal.LOST_DIR);
        Path saved = lost.resolve("rejoin-" + epoch + "-" + forkLsn);
        Path savedWal = saved.resolve(Wal.WAL_DIR);
        env.createDirectories(savedWal);
        Path walDir = dir.resolve(Wal.WAL_DIR);
        List<Path> segments = new ArrayList<>();
        for (Path p : env.list(walDir)) {
            if (SegmentFiles.parseSegmentBase(p) >= 0) {
                segments.add(p);
            }
        }
        segments.sort(java.util.Comparator.comparingLong(SegmentFiles::parseSegmentBase));
        for (int i = 0; i < segments.size(); i++) {
            // A segment ends where the next begins; the last one holds everything after its base.
            boolean holdsDiscarded = i + 1 == segments.size()
                    || SegmentFiles.parseSegmentBase(segments.get(i + 1)) > forkLsn;
            if (holdsDiscarded) {
                env.copy(segments.get(i), savedWal.resolve(segments.get(i).getFileName()));
            }
        }
        env.syncDirectory(savedWal);
        env.syncDirectory(saved);
        env.syncDirectory(lost);
        env.syncDirectory(dir);
        return saved;
    }

    private static long[] askFork(InetSocketAddress primary, PeerSecret secret, RaftTls tls, long epoch, long end)
            throws IOException {
        try (Socket socket = PairSockets.connect(primary, 5_000, tls)) {
            FrameChannel channel = new FrameChannel(socket);
            Handshake.asClient(channel, secret, Handshake.PURPOSE_REPLICA);
            channel.receiveTimeout(30_000);
            channel.send(new FrameBuilder().start(FrameType.FIND_FORK).u64(epoch).u64(end));
            Frame f = channel.receive().expect(FrameType.FORK);
            long[] out = {f.lsn(), f.lsn()};
            f.end();
            return out;
        }
    }

}
