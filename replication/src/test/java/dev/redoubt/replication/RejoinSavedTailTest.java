package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalOptions;
import dev.redoubt.wal.WalReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a rejoin discards is first copied to {@code lost/}, where a log reader (and {@code wal dump}) finds it. */
class RejoinSavedTailTest {
    @TempDir
    Path dir;

    @Test
    void theSegmentsHoldingTheDiscardedTailAreCopiedWholeAndReadBackRecordForRecordAfterTheCut() throws Exception {
        WalOptions options = WalOptions.defaults().segmentBytes(WalOptions.MIN_SEGMENT_BYTES);
        List<Long> lsns = new ArrayList<>();
        try (Wal wal = Wal.open(FileStorageEnv.INSTANCE, dir, options)) {
            for (int i = 0; i < 200; i++) {
                lsns.add(wal.append(RecordType.WRITE_BATCH, ("record-" + i).getBytes(StandardCharsets.UTF_8),
                        Durability.SYNC));
            }
            long fork = lsns.get(120);
            List<String> expected = read(dir.resolve(Wal.WAL_DIR), fork);
            assertThat(expected).hasSize(80);

            Path saved = Rejoin.saveDiscarded(FileStorageEnv.INSTANCE, dir, 3, fork);
            assertThat(saved).isEqualTo(dir.resolve("lost").resolve("rejoin-3-" + fork));
            wal.truncateFrom(fork);
            assertThat(read(dir.resolve(Wal.WAL_DIR), fork)).as("the live log after the cut").isEmpty();
            assertThat(read(saved.resolve(Wal.WAL_DIR), fork)).as("the copy").isEqualTo(expected);
            // Only segments that hold discarded bytes are copied.
            long segmentsCopied;
            try (var files = Files.list(saved.resolve(Wal.WAL_DIR))) {
                segmentsCopied = files.count();
            }
            long segmentsFromFork = (lsns.get(199) / WalOptions.MIN_SEGMENT_BYTES) - (fork / WalOptions.MIN_SEGMENT_BYTES) + 1;
            assertThat(segmentsCopied).isEqualTo(segmentsFromFork);
        }
    }

    private static List<String> read(Path walDir, long from) {
        List<String> out = new ArrayList<>();
        try (WalReader reader = WalReader.open(FileStorageEnv.INSTANCE, walDir, from)) {
            while (reader.next()) {
                out.add(reader.lsn() + ":" + new String(reader.payloadBytes(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
