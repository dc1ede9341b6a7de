package dev.redoubt.tool;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.SegmentFiles;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Damaged data directories, made from a healthy one. */
final class Fixtures {
    private Fixtures() {
    }

    /** Garbage right after the last record: a torn tail the next open drops. Returns its LSN. */
    static long tearTail(Path dir) throws IOException {
        RecoveryReport r = Wal.inspect(FileStorageEnv.INSTANCE, dir, RecoveryMode.TOLERATE_CORRUPTED_TAIL);
        Path segment = Cli.onlyWalSegment(dir);
        long base = SegmentFiles.parseSegmentBase(segment);
        Cli.write(segment, r.endLsn() - base, "torn-torn-torn-torn-torn-torn!".getBytes());
        return r.endLsn();
    }

    /** Flips a payload byte of a record that has many valid (durable) records after it. Returns its LSN. */
    static long corruptWalMiddle(Path dir) throws IOException {
        List<long[]> records = new ArrayList<>();
        try (WalReader reader = WalReader.open(FileStorageEnv.INSTANCE, dir.resolve(Wal.WAL_DIR),
                Wal.inspect(FileStorageEnv.INSTANCE, dir, RecoveryMode.TOLERATE_CORRUPTED_TAIL).startLsn())) {
            while (reader.next()) {
                records.add(new long[] {reader.lsn(), reader.nextLsn()});
            }
        }
        if (records.size() < 20) {
            throw new AssertionError("need 20 records in the WAL, found " + records.size());
        }
        long lsn = records.get(records.size() / 2)[0];
        Path segment = null;
        for (Path p : Files.list(dir.resolve(Wal.WAL_DIR)).sorted().toList()) {
            long base = SegmentFiles.parseSegmentBase(p);
            if (base >= 0 && base <= lsn) {
                segment = p;
            }
        }
        Cli.flip(segment, lsn - SegmentFiles.parseSegmentBase(segment) + 44, 1);
        return lsn;
    }

    /** Flips a byte inside the first data block of {@code table}. */
    static void corruptTable(Path table) throws IOException {
        Cli.flip(table, 20, 1);
    }
}
