package dev.redoubt.wal;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/** {@link Wal#truncateFrom}: discarding a log's tail, crash-safely. Runs with the writer quiesced. */
final class WalTruncation {
    private WalTruncation() {
    }

    static long truncateFrom(StorageEnv env, Path walDir, LogWriter writer, long lsn) throws IOException {
        long end = writer.writtenLsn();
        List<Path> segments = WalSegments.list(env, walDir);
        long[] bases = WalSegments.bases(segments);
        if (lsn == end) {
            return 0;
        }
        if (bases.length == 0 || lsn < bases[0] || lsn > end) {
            throw new StorageException(ErrorCode.INVALID_STATE, "cannot truncate the WAL from LSN " + lsn
                    + ": the log holds LSN " + (bases.length == 0 ? 0 : bases[0]) + " to " + end);
        }
        int s = 0;
        while (s + 1 < bases.length && bases[s + 1] <= lsn) {
            s++;
        }
        long offset = lsn - bases[s];
        try (SegmentReader reader = new SegmentReader(env, segments.get(s), bases[s])) {
            SegmentReader.Check check = reader.check(offset);
            if (check != SegmentReader.Check.VALID) {
                throw new StorageException(ErrorCode.INVALID_STATE, "cannot truncate the WAL from LSN " + lsn
                        + ": it is not the start of a record (" + check + ")");
            }
        }
        for (int i = segments.size() - 1; i > s; i--) {
            if (bases[i] == writer.activeBase()) {
                writer.activeFile().close();
            }
            env.delete(segments.get(i));
        }
        env.syncDirectory(walDir);
        StorageFile file = bases[s] == writer.activeBase() ? writer.activeFile() : env.openForWrite(segments.get(s));
        long segmentEnd = bases[s] + file.size();
        long zeroTo = Math.min(segmentEnd, end) - bases[s];
        ByteBuffer zeros = ByteBuffer.allocateDirect(64 * 1024);
        for (long at = offset; at < zeroTo; at += zeros.capacity()) {
            zeros.clear();
            zeros.limit((int) Math.min(zeros.capacity(), zeroTo - at));
            file.write(at, zeros);
        }
        file.force();
        writer.resetTo(file, bases[s], segmentEnd, lsn);
        return end - lsn;
    }
}
