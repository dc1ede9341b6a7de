package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.wal.Durability;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real crashes: a child JVM writes batches while flushes, compactions and manifest switches run, and is killed
 * with SIGKILL at a random moment; the database is reopened here and checked: every acknowledged batch is
 * present with its exact values, and no batch is partly applied. The same directory goes through every cycle.
 */
class DbKillTest {
    private static final int CYCLES = Integer.getInteger("redoubt.kill.cycles", 30);
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path dir;

    @Test
    @Timeout(600)
    void everyAcknowledgedBatchSurvivesSigkillAndNoBatchIsPartial() throws Exception {
        Random random = new Random(SEED);
        Map<Integer, Long> lastAcked = new HashMap<>();
        List<long[]> acked = new ArrayList<>();
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Durability durability = cycle % 3 == 2 ? Durability.ASYNC : Durability.SYNC;
            // Every fifth cycle the kill is timed from the child's start, so it can land inside the open:
            // redo, orphan removal, and the manifest rewrite and CURRENT switch.
            boolean fromStart = cycle % 5 == 4;
            long killAfterMs = fromStart ? random.nextInt(700) : 150 + random.nextInt(900);
            CrashChildRunner.Result r = CrashChildRunner.run(dir, 4, durability, cycle * 100_000_000L, killAfterMs,
                    fromStart, List.of());
            acked.addAll(r.acks());
            for (long[] a : r.acks()) {
                lastAcked.merge((int) a[0], a[1], Math::max);
            }
            String context = "seed " + SEED + " cycle " + cycle + " (" + durability + ", kill after " + killAfterMs
                    + " ms" + (fromStart ? " from start" : "") + "); replay: -Dredoubt.seed=" + SEED;
            try (Db db = Db.open(dir, DbCrashChild.options())) {
                CrashChildRunner.verify(db, acked, lastAcked, context);
            }
        }
        assertThat(acked).as("the children acknowledged batches").hasSizeGreaterThan(CYCLES);
    }

    @Test
    @Timeout(120)
    void aDatabaseOpenInAnotherProcessIsRefusedWithLocked() throws Exception {
        CrashChildRunner.run(dir, 1, Durability.SYNC, 0, 200, false, List.of(), () ->
                assertThatThrownBy(() -> Db.open(dir, DbCrashChild.options()))
                        .isInstanceOfSatisfying(StorageException.class, e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.LOCKED);
                            assertThat(e.getMessage()).contains("another process");
                        }));
    }
}
