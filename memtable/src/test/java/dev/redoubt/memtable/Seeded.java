package dev.redoubt.memtable;

import java.util.Random;

/**
 * Seeds for random tests: {@code -Dredoubt.seed=N} replays a run; otherwise a fresh seed each run. A failure is
 * rethrown with the seed and the replay flag in its message.
 */
final class Seeded {
    private Seeded() {
    }

    interface Body {
        void run(Random random) throws Exception;
    }

    static long seed() {
        return Long.getLong("redoubt.seed", System.nanoTime());
    }

    static void run(long seed, Body body) {
        try {
            body.run(new Random(seed));
        } catch (Throwable t) {
            throw new AssertionError("failed with seed " + seed + " (replay: -Dredoubt.seed=" + seed + "): " + t, t);
        }
    }
}
