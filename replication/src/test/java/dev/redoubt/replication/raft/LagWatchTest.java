package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link LagWatch} on a clock the test drives: a stall is reported only after a whole patience without progress. */
class LagWatchTest {
    private static final long PATIENCE = 1_000;

    @Test
    void aPositionThatKeepsUpIsNeverReported() {
        LagWatch w = new LagWatch(PATIENCE);
        for (long t = 0, i = 0; t < 10 * PATIENCE; t += 100, i += 5) {
            // always a little behind, but it reaches every target within the patience
            assertThat(w.stalled(i, i + 3, t)).as("at %d", t).isFalse();
        }
    }

    @Test
    void aPositionStuckBelowATargetIsReportedOnceAfterThePatienceThenWatchedAgain() {
        LagWatch w = new LagWatch(PATIENCE);
        assertThat(w.stalled(10, 20, 0)).as("the target 20 is set").isFalse();
        assertThat(w.stalled(15, 30, PATIENCE - 1)).as("not yet a whole patience").isFalse();
        assertThat(w.stalled(15, 30, PATIENCE)).as("still below 20 a patience later").isTrue();
        assertThat(w.stalled(15, 30, PATIENCE + 1)).as("reported once: a new target (30) is set").isFalse();
        assertThat(w.stalled(15, 30, 2 * PATIENCE)).isFalse();
        assertThat(w.stalled(15, 30, 2 * PATIENCE + 1)).as("stuck below 30 for a patience").isTrue();
    }

    @Test
    void reachingTheTargetResetsTheWatch() {
        LagWatch w = new LagWatch(PATIENCE);
        w.stalled(0, 10, 0);
        assertThat(w.stalled(10, 50, PATIENCE / 2)).as("reached 10; 50 is the new target from now").isFalse();
        assertThat(w.stalled(10, 50, PATIENCE)).as("only half a patience below 50").isFalse();
        assertThat(w.stalled(10, 50, PATIENCE / 2 + PATIENCE)).isTrue();
    }

    @Test
    void nothingBehindMeansNothingToWatch() {
        LagWatch w = new LagWatch(PATIENCE);
        assertThat(w.stalled(7, 7, 0)).isFalse();
        assertThat(w.stalled(7, 7, 100 * PATIENCE)).isFalse();
    }
}
