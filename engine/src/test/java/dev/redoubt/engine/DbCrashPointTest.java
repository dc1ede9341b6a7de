package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.wal.Durability;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crashes at every named crash point ({@link CrashPoints}): each cycle arms one point at a random hit count in
 * a child writer, which halts there (or is killed if it never gets there); the survivor is reopened and
 * checked like after SIGKILL. CI reaches every point; {@code -Dredoubt.crashpoint.rounds=50} reaches each ≥ 50
 * times.
 */
class DbCrashPointTest {
    private static final int ROUNDS = Integer.getInteger("redoubt.crashpoint.rounds", 1);
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path dir;

    @Test
    @Timeout(1800)
    void recoveryHoldsAfterACrashAtEveryNamedPoint() throws Exception {
        Random random = new Random(SEED);
        Map<Integer, Long> lastAcked = new HashMap<>();
        List<long[]> acked = new ArrayList<>();
        Map<String, Integer> reached = new TreeMap<>();
        long batch = 0;
        for (int round = 0; round < ROUNDS; round++) {
            for (String point : CrashPoints.ALL) {
                // Points on the write path are hit per group; the manifest rewrite and CURRENT switch once per open;
                // the rest a few times per second at most.
                boolean oncePerOpen = point.startsWith("current.") || point.equals(CrashPoints.MANIFEST_CREATED);
                int nth = point.startsWith("wal.group") ? 1 + random.nextInt(200) : oncePerOpen ? 1 : 1 + random.nextInt(2);
                CrashChildRunner.Result r = CrashChildRunner.run(dir, 4, Durability.SYNC, batch, 4000, true,
                        List.of("-D" + CrashPoints.PROPERTY + "=" + point + ":" + nth));
                batch += 100_000_000L;
                if (point.equals(r.crashPoint())) {
                    reached.merge(point, 1, Integer::sum);
                }
                acked.addAll(r.acks());
                for (long[] a : r.acks()) {
                    lastAcked.merge((int) a[0], a[1], Math::max);
                }
                String context = "seed " + SEED + " round " + round + " crash point " + point + ":" + nth
                        + (r.crashPoint() == null ? " (not reached; killed)" : "");
                try (Db db = Db.open(dir, DbCrashChild.options())) {
                    CrashChildRunner.verify(db, acked, lastAcked, context);
                }
            }
        }
        System.out.println("crash points reached: " + reached);
        assertThat(reached.keySet()).as("every crash point was reached at least once (seed %d)", SEED)
                .containsExactlyInAnyOrder(CrashPoints.ALL);
    }
}
