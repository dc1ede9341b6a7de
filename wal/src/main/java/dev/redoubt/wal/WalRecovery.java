package dev.redoubt.wal;

import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Opening a log, in numbered passes (Kafka's {@code LogLoader}):
 * <ol>
 *   <li>scan every record from the oldest segment, in LSN order, checking checksum, bounds and LSN;</li>
 *   <li>at the first position that is not a live record, look for valid records after it (resynchronizing by
 *       the LSN each record carries) and collect their durable LSNs: the proof of what had been fsynced, to which
 *       the caller may add what it knew ({@link WalOptions#knownDurableLsn});</li>
 *   <li>decide by {@link RecoveryMode}: refuse, cut the log, or skip the damaged range;</li>
 *   <li>quarantine every non-zero byte about to be dropped under {@code lost/} (fsynced), then delete later
 *       segments (newest first, so a crash leaves a prefix), zero the dropped range of the last kept
 *       segment and fsync it, so bytes of the dropped tail can never be read as live records again.</li>
 * </ol>
 * A crash at any point of pass 4 leaves a log that the same recovery handles again (it is idempotent).
 *
 * <p>This class is not thread-safe; it runs before the log accepts appends.
 */
final class WalRecovery implements AutoCloseable {
    private final StorageEnv env;
    private final Path walDir;
    private final Path lostDir;
    private final RecoveryMode mode;
    /** Every log byte below it was known durable before this open ({@link WalOptions#knownDurableLsn}). */
    private final long knownDurableLsn;
    /** Decide and report only: no quarantine, no deletes, no zeroing (for {@code redoubt wal verify}). */
    private final boolean dryRun;
    private final List<Path> files;
    private final long[] bases;
    private final SegmentReader[] readers;
    private final List<DroppedRange> dropped = new ArrayList<>();
    private final CRC32C crc = new CRC32C();

    private java.util.function.LongConsumer progress = bytes -> { };
    private long progressReportedAt;
    private long records;
    private long lastEpoch;
    private long maxDurable;
    private boolean acknowledgedLoss;

    private static final long PROGRESS_STEP_BYTES = 1 << 20;

    /** A record position: segment index and offset in it. */
    private record Location(int segment, long offset) {
    }

    /** What the valid records after some damage prove. */
    private record Evidence(long maxDurableLsn, long records) {
    }

    private WalRecovery(StorageEnv env, Path walDir, Path lostDir, RecoveryMode mode, long knownDurableLsn,
                        boolean dryRun, List<Path> files) {
        this.env = env;
        this.walDir = walDir;
        this.lostDir = lostDir;
        this.mode = mode;
        this.knownDurableLsn = knownDurableLsn;
        this.dryRun = dryRun;
        this.files = files;
        this.bases = WalSegments.bases(files);
        this.readers = new SegmentReader[files.size()];
    }

    static RecoveryReport run(StorageEnv env, Path walDir, Path lostDir, RecoveryMode mode, long knownDurableLsn,
                              boolean dryRun, java.util.function.LongConsumer progress) throws IOException {
        long started = System.nanoTime();
        List<Path> files = WalSegments.list(env, walDir);
        if (files.isEmpty()) {
            return new RecoveryReport(mode, 0, 0, 0, 0, 0, 0, List.of(), false, System.nanoTime() - started);
        }
        try (WalRecovery recovery = new WalRecovery(env, walDir, lostDir, mode, knownDurableLsn, dryRun, files)) {
            recovery.progress = progress;
            long end = recovery.scan();
            return new RecoveryReport(mode, recovery.bases[0], end, recovery.records, files.size(),
                    recovery.lastEpoch, recovery.maxDurable, List.copyOf(recovery.dropped),
                    recovery.acknowledgedLoss, System.nanoTime() - started);
        }
    }

    private SegmentReader reader(int i) throws IOException {
        if (readers[i] == null) {
            readers[i] = new SegmentReader(env, files.get(i), bases[i]);
        }
        return readers[i];
    }

    /** Closes a segment the scan has passed (it is reopened if needed again): bounds memory to a few windows. */
    private void release(int i) throws IOException {
        if (readers[i] != null) {
            readers[i].close();
            readers[i] = null;
        }
    }

    /** Pass 1-3; returns the LSN at which the log continues. */
    private long scan() throws IOException {
        int i = 0;
        long p = bases[0];
        while (true) {
            SegmentReader s = reader(i);
            long offset = p - s.base;
            SegmentReader.Check check = s.check(offset);
            if (check == SegmentReader.Check.VALID) {
                keep(s);
                p += WalRecordDescriptor.HEADER_LENGTH + s.storedLength();
                if (p - progressReportedAt >= PROGRESS_STEP_BYTES) {
                    progressReportedAt = p;
                    progress.accept(p - bases[0]);
                }
                continue;
            }
            if (check == SegmentReader.Check.SEGMENT_END) {
                if (i + 1 == files.size()) {
                    if (p < knownDurableLsn) {
                        endsBelowKnownDurable(s, p);
                    }
                    return p;
                }
                if (bases[i + 1] == s.end()) {
                    release(i);
                    i++;
                    p = bases[i];
                    continue;
                }
                String why = "segment " + s.path.getFileName() + " ends at LSN " + s.end()
                        + " but the next segment starts at LSN " + bases[i + 1] + " (missing or overlapping segment)";
                Location next = findValidFrom(i + 1, 0);
                if (next == null) {
                    dropTail(i, p, DroppedRange.Kind.TORN_TAIL, why, false, 0);
                    return p;
                }
                decide(i, p, why, true, next, false);
                return p;
            }
            String why = switch (check) {
                case ZERO -> "zero-filled bytes where a record should be";
                case STALE -> "stale bytes of an older log (" + s.problem() + ")";
                default -> s.problem();
            };
            Location next = findValidAfter(i, offset);
            if (next == null) {
                // Nothing after the damage can prove it durable; only what the caller knew before the open can.
                boolean known = p < knownDurableLsn;
                if (known && (mode == RecoveryMode.TOLERATE_CORRUPTED_TAIL || mode == RecoveryMode.ABSOLUTE_CONSISTENCY)) {
                    throw refuse(s, offset, why + "; no valid record follows, but the log was known durable up to LSN "
                            + knownDurableLsn + " (its end at the last clean close): acknowledged writes are damaged",
                            true, "");
                }
                if (check == SegmentReader.Check.DAMAGED && mode == RecoveryMode.ABSOLUTE_CONSISTENCY) {
                    throw refuse(s, offset, "the log ends with a torn or damaged record: " + why, false,
                            "; the default mode TOLERATE_CORRUPTED_TAIL drops it (a copy goes to lost/)");
                }
                dropTail(i, p, DroppedRange.Kind.TORN_TAIL, why, known, 0);
                return p;
            }
            if (!decide(i, p, why, false, next, true)) {
                return p;
            }
            i = next.segment;
            p = bases[i] + next.offset;
        }
    }

    /**
     * The log ends cleanly at {@code p}, but it was known durable further: its last segments are missing. The default
     * and strict modes refuse; the others go on, flagging acknowledged loss.
     */
    private void endsBelowKnownDurable(SegmentReader s, long p) {
        String why = "the log ends at LSN " + p + ", but it was known durable up to LSN " + knownDurableLsn
                + " (its end at the last clean close): its last segments are missing";
        if (mode == RecoveryMode.TOLERATE_CORRUPTED_TAIL || mode == RecoveryMode.ABSOLUTE_CONSISTENCY) {
            throw refuse(s, p - s.base, why, true, "");
        }
        acknowledgedLoss = true;
        dropped.add(new DroppedRange(p, knownDurableLsn, 0, s.path.getFileName().toString(), p - s.base,
                DroppedRange.Kind.CUT_AT_CORRUPTION, why, true, 0, null));
    }

    private void keep(SegmentReader s) {
        int at = s.recordIndex();
        if (WalRecordDescriptor.typeCode(s.buffer(), at) != RecordType.PADDING.code()) {
            records++;
            lastEpoch = WalRecordDescriptor.epoch(s.buffer(), at);
        }
        maxDurable = Math.max(maxDurable, WalRecordDescriptor.durableLsn(s.buffer(), at));
    }

    /**
     * Damage at {@code p} with a valid record at {@code next}: refuse, cut, or skip. Returns true when the scan
     * continues at {@code next} (skipped), false when the log ends at {@code p}.
     */
    private boolean decide(int i, long p, String why, boolean gap, Location next, boolean skippable)
            throws IOException {
        Evidence evidence = evidenceFrom(next);
        boolean provenByLog = evidence.maxDurableLsn > p;
        boolean proven = provenByLog || p < knownDurableLsn;
        SegmentReader s = reader(i);
        long offset = p - s.base;
        String detail = why + "; " + evidence.records + " valid records follow"
                + (provenByLog ? ", and one of them shows these bytes had been fsynced (durable LSN "
                + evidence.maxDurableLsn + "): acknowledged writes are damaged"
                : proven ? ", and the log was known durable up to LSN " + knownDurableLsn
                + " (its end at the last clean close): acknowledged writes are damaged" : "");
        switch (mode) {
            case ABSOLUTE_CONSISTENCY -> throw refuse(s, offset, detail, proven, "");
            case TOLERATE_CORRUPTED_TAIL -> {
                if (proven) {
                    throw refuse(s, offset, detail, true, "");
                }
                // Nothing proves these bytes were ever fsynced: a power cut can persist later pages of an
                // unsynced write before earlier ones, so this is a torn tail, never acknowledged as durable.
                dropTail(i, p, DroppedRange.Kind.CUT_AT_CORRUPTION, why + " (not proven durable)", false,
                        evidence.records);
                return false;
            }
            case POINT_IN_TIME -> {
                dropTail(i, p, DroppedRange.Kind.CUT_AT_CORRUPTION, why, proven, evidence.records);
                return false;
            }
            default -> {
                if (gap || !skippable || !skip(i, p, next, why, proven, evidence.records)) {
                    dropTail(i, p, DroppedRange.Kind.CUT_AT_CORRUPTION, why, proven, evidence.records);
                    return false;
                }
                return true;
            }
        }
    }

    private WalCorruptionException refuse(SegmentReader s, long offset, String detail, boolean proven, String hint) {
        long lsn = s.base + offset;
        String message = "WAL corruption in segment " + s.path.getFileName() + " at offset " + offset + " (LSN "
                + lsn + "): " + detail + ". Recovery mode " + mode + " refuses to drop it" + hint
                + ". To open anyway: POINT_IN_TIME keeps the log up to LSN " + lsn
                + ", SKIP_CORRUPTED skips the damaged range and keeps later records; both copy what they drop to lost/.";
        return new WalCorruptionException(message, s.path.getFileName().toString(), offset, lsn, proven);
    }

    /** First valid record strictly after {@code offset} in segment {@code i}, or in a later segment. */
    private Location findValidAfter(int i, long offset) throws IOException {
        SegmentReader s = reader(i);
        long found = s.findValid(offset + 1, s.nonZeroEnd(offset + 1));
        if (found >= 0) {
            return new Location(i, found);
        }
        return findValidFrom(i + 1, 0);
    }

    /** First valid record at or after {@code offset} of segment {@code i}, or in a later segment. */
    private Location findValidFrom(int i, long offset) throws IOException {
        for (int j = i; j < files.size(); j++) {
            SegmentReader s = reader(j);
            long from = j == i ? offset : 0;
            long found = s.findValid(from, s.nonZeroEnd(from));
            if (found >= 0) {
                return new Location(j, found);
            }
            release(j);
        }
        return null;
    }

    /** Walks every valid record from {@code start} to the end (resynchronizing over further damage). */
    private Evidence evidenceFrom(Location start) throws IOException {
        long maxDurableAfter = 0;
        long count = 0;
        Location at = start;
        while (at != null) {
            SegmentReader s = reader(at.segment);
            SegmentReader.Check check = s.check(at.offset);
            if (check == SegmentReader.Check.VALID) {
                if (WalRecordDescriptor.typeCode(s.buffer(), s.recordIndex()) != RecordType.PADDING.code()) {
                    count++;
                }
                maxDurableAfter = Math.max(maxDurableAfter, WalRecordDescriptor.durableLsn(s.buffer(), s.recordIndex()));
                at = new Location(at.segment, at.offset + WalRecordDescriptor.HEADER_LENGTH + s.storedLength());
            } else if (check == SegmentReader.Check.SEGMENT_END) {
                release(at.segment);
                at = findValidFrom(at.segment + 1, 0);
            } else {
                at = findValidAfter(at.segment, at.offset);
            }
        }
        return new Evidence(maxDurableAfter, count);
    }

    /** Pass 4 for a cut: quarantine, delete later segments newest first, zero the rest of segment {@code i}. */
    private void dropTail(int i, long p, DroppedRange.Kind kind, String why, boolean proven, long recordsAfter)
            throws IOException {
        SegmentReader s = reader(i);
        long offset = p - s.base;
        long[][] ranges = new long[files.size()][];
        long bytes = 0;
        long lastEnd = p;
        for (int j = i; j < files.size(); j++) {
            SegmentReader r = reader(j);
            long from = j == i ? offset : 0;
            long to = r.nonZeroEnd(from);
            ranges[j] = new long[] {from, to};
            bytes += to - from;
            if (to > from) {
                lastEnd = r.base + to;
            }
            if (j != i) {
                release(j);
            }
        }
        if (bytes == 0 && i + 1 == files.size() && !proven) {
            return; // a clean, zero-filled end: nothing to drop
        }
        acknowledgedLoss |= proven;
        if (dryRun) {
            dropped.add(new DroppedRange(p, lastEnd, bytes, s.path.getFileName().toString(), offset, kind, why,
                    proven, recordsAfter, null));
            return;
        }
        String quarantine = bytes > 0 ? quarantine(p, lastEnd, i, ranges, bytes) : null;
        for (int j = files.size() - 1; j > i; j--) {
            release(j);
            env.delete(files.get(j));
        }
        env.syncDirectory(walDir);
        zero(files.get(i), offset, ranges[i][1]);
        dropped.add(new DroppedRange(p, lastEnd, bytes, s.path.getFileName().toString(), offset, kind, why, proven,
                recordsAfter, quarantine));
    }

    /** Pass 4 for {@link RecoveryMode#SKIP_CORRUPTED}: quarantine {@code [p, next)} and overwrite it with padding. */
    private boolean skip(int i, long p, Location next, String why, boolean proven, long recordsAfter)
            throws IOException {
        SegmentReader s = reader(i);
        long offset = p - s.base;
        for (int j = i + 1; j <= next.segment; j++) {
            if (bases[j] != reader(j - 1).end()) {
                return false; // a missing segment cannot be skipped
            }
        }
        if (next.segment == i ? next.offset - offset < WalRecordDescriptor.HEADER_LENGTH
                : next.offset > 0 && next.offset < WalRecordDescriptor.HEADER_LENGTH) {
            return false;
        }
        long[][] ranges = new long[files.size()][];
        long bytes = 0;
        for (int j = i; j <= next.segment; j++) {
            long from = j == i ? offset : 0;
            long to = j == next.segment ? next.offset : reader(j).size;
            ranges[j] = new long[] {from, to};
            bytes += to - from;
        }
        long nextLsn = bases[next.segment] + next.offset;
        acknowledgedLoss |= proven;
        if (dryRun) {
            dropped.add(new DroppedRange(p, nextLsn, bytes, s.path.getFileName().toString(), offset,
                    DroppedRange.Kind.SKIPPED_CORRUPTION, why, proven, recordsAfter, null));
            return true;
        }
        String quarantine = quarantine(p, nextLsn, i, ranges, bytes);
        for (int j = i; j <= next.segment; j++) {
            long from = ranges[j][0];
            long to = ranges[j][1];
            if (to - from >= WalRecordDescriptor.HEADER_LENGTH) {
                pad(files.get(j), bases[j], from, (int) (to - from));
            }
        }
        dropped.add(new DroppedRange(p, nextLsn, bytes, s.path.getFileName().toString(), offset,
                DroppedRange.Kind.SKIPPED_CORRUPTION, why, proven, recordsAfter, quarantine));
        // The readers cached the old bytes; reopen the touched segments so the scan sees the padding.
        for (int j = i; j <= next.segment; j++) {
            release(j);
        }
        return true;
    }

    /** Copies the ranges to {@code lost/wal-<from>-<to>.lost} and makes the copy durable before anything is changed. */
    private String quarantine(long fromLsn, long toLsn, int first, long[][] ranges, long bytes) throws IOException {
        env.createDirectories(lostDir);
        String name = String.format("wal-%020d-%020d.lost", fromLsn, toLsn);
        Path target = lostDir.resolve(name);
        try (StorageFile out = env.openForWrite(target)) {
            out.truncate(0);
            long written = 0;
            ByteBuffer chunk = ByteBuffer.allocate(SegmentReader.DEFAULT_WINDOW_BYTES);
            for (int j = first; j < ranges.length; j++) {
                if (ranges[j] == null) {
                    continue;
                }
                SegmentReader r = reader(j);
                for (long at = ranges[j][0]; at < ranges[j][1]; at += chunk.capacity()) {
                    long to = Math.min(ranges[j][1], at + chunk.capacity());
                    chunk.clear();
                    r.copy(at, to, chunk);
                    chunk.flip();
                    out.write(written, chunk);
                    written += to - at;
                }
            }
            if (written != bytes) {
                throw new IllegalStateException("quarantined " + written + " bytes, expected " + bytes);
            }
            out.force();
        }
        env.syncDirectory(lostDir);
        return name;
    }

    private void zero(Path segment, long from, long to) throws IOException {
        if (to <= from) {
            return;
        }
        try (StorageFile f = env.openForWrite(segment)) {
            ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(SegmentReader.DEFAULT_WINDOW_BYTES, to - from));
            for (long at = from; at < to; at += zeros.capacity()) {
                zeros.clear();
                zeros.limit((int) Math.min(zeros.capacity(), to - at));
                f.write(at, zeros);
            }
            f.force();
        }
    }

    private void pad(Path segment, long base, long offset, int length) throws IOException {
        ByteBuffer header = ByteBuffer.allocateDirect(WalRecordDescriptor.HEADER_LENGTH);
        UnsafeBuffer b = new UnsafeBuffer(header);
        WalRecordDescriptor.writePadding(b, header.duplicate(), crc, 0, base + offset,
                length - WalRecordDescriptor.HEADER_LENGTH, lastEpoch, 0);
        header.clear();
        try (StorageFile f = env.openForWrite(segment)) {
            f.write(offset, header);
            f.force();
        }
    }

    @Override
    public void close() throws IOException {
        for (int j = 0; j < readers.length; j++) {
            release(j);
        }
    }
}
