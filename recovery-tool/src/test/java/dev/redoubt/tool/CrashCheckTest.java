package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash test's verdict on one writer's batches ({@link DbCrashRun#check}), on databases written to show each
 * failure it must report: a lost acknowledged batch, a hole, a batch that cannot have been written yet, a partial
 * batch, a stale marker; and what it must let pass: the batch in flight, and (power loss, ASYNC) a missing tail.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CrashCheckTest {
    private static final long NEXT_CYCLE = DbCrashRun.BATCHES_PER_CYCLE;

    @TempDir
    Path dir;

    private Db db;

    @BeforeEach
    void open() {
        db = Db.open(dir.resolve("db"), DbCrashChild.options());
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void everyAcknowledgedBatchPresentPasses() {
        writeBatches(0, 9);
        DbCrashRun.WriterCheck c = DbCrashRun.check(db, 0, 0, 9, false);
        assertThat(c).isEqualTo(new DbCrashRun.WriterCheck(10, 10, 0, 0, 0, 10, 0, 9));
    }

    @Test
    void theBatchInFlightMayBePresentButNotTheOneAfterIt() {
        writeBatches(0, 10);
        assertThat(DbCrashRun.check(db, 0, 0, 9, false).holes()).isZero();
        writeBatch(11);
        assertThat(DbCrashRun.check(db, 0, 0, 9, false).holes()).as("batch 11 was never started").isEqualTo(1);
    }

    @Test
    void aMissingTailIsLostUnlessAPowerCutMayTakeIt() {
        writeBatches(0, 5);
        assertThat(DbCrashRun.check(db, 0, 0, 9, false))
                .isEqualTo(new DbCrashRun.WriterCheck(10, 6, 4, 0, 0, 6, 0, 9));
        assertThat(DbCrashRun.check(db, 0, 0, 9, true))
                .as("ASYNC under power loss: lost as allowed, and only batches 0..5 must survive from now on")
                .isEqualTo(new DbCrashRun.WriterCheck(10, 6, 0, 4, 0, 6, 0, 5));
    }

    @Test
    void aGapIsAHoleEvenWhenLossIsAllowed() {
        writeBatches(0, 3);
        writeBatches(5, 9);
        DbCrashRun.WriterCheck c = DbCrashRun.check(db, 0, 0, 9, true);
        assertThat(c.holes()).as("batches 5..9 survived batch 4").isEqualTo(5);
        assertThat(c.mustSurviveLast()).isEqualTo(3);
    }

    @Test
    void aWrongValueInsideTheSurvivingRunIsLostEvenWhenLossIsAllowed() {
        writeBatches(0, 5);
        byte[] wrong = "not the value".getBytes(StandardCharsets.UTF_8);
        db.write(new WriteBatch().put(DbCrashChild.key(0, 2, 'a'), wrong).put(DbCrashChild.key(0, 2, 'b'), wrong));
        DbCrashRun.WriterCheck c = DbCrashRun.check(db, 0, 0, 9, true);
        assertThat(c.lost()).isEqualTo(1);
        assertThat(c.verified()).isEqualTo(5);
    }

    @Test
    void aHalfBatchOrAStaleMarkerIsPartial() {
        writeBatches(0, 5);
        db.put(DbCrashChild.key(0, 6, 'a'), DbCrashChild.value(0, 6));
        assertThat(DbCrashRun.check(db, 0, 0, 5, false).partial()).as("batch 6 has one half; the marker says 5")
                .isEqualTo(2);
        db.put(DbCrashChild.key(0, 6, 'b'), DbCrashChild.value(0, 6));
        assertThat(DbCrashRun.check(db, 0, 0, 5, false).partial()).as("the marker still says 5").isEqualTo(1);
        db.put(DbCrashChild.lastKey(0), "6".getBytes(StandardCharsets.UTF_8));
        assertThat(DbCrashRun.check(db, 0, 0, 5, false).partial()).isZero();
    }

    @Test
    void aCycleWithNothingPresentNeedsAnOlderMarker() {
        writeBatches(0, 3);
        DbCrashRun.WriterCheck nothing = DbCrashRun.check(db, 0, NEXT_CYCLE, NEXT_CYCLE - 1, false);
        assertThat(nothing).isEqualTo(new DbCrashRun.WriterCheck(0, 0, 0, 0, 0, 0, 0, NEXT_CYCLE - 1));
        db.put(DbCrashChild.lastKey(0), Long.toString(NEXT_CYCLE + 3).getBytes(StandardCharsets.UTF_8));
        assertThat(DbCrashRun.check(db, 0, NEXT_CYCLE, NEXT_CYCLE - 1, false).partial())
                .as("a marker of this cycle without its batch").isEqualTo(1);
    }

    private void writeBatches(long from, long to) {
        for (long b = from; b <= to; b++) {
            writeBatch(b);
        }
    }

    /** What {@link DbCrashChild}'s writer 0 writes as batch {@code b}. */
    private void writeBatch(long b) {
        byte[] v = DbCrashChild.value(0, b);
        db.write(new WriteBatch().put(DbCrashChild.key(0, b, 'a'), v).put(DbCrashChild.key(0, b, 'b'), v)
                .put(DbCrashChild.lastKey(0), Long.toString(b).getBytes(StandardCharsets.UTF_8)));
    }
}
