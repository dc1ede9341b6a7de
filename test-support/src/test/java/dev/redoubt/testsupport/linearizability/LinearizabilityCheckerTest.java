package dev.redoubt.testsupport.linearizability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
    private static final LinearizabilityChecker CHECKER = new LinearizabilityChecker();
    private static final String K = "k";
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    private static History.Builder history() {
        return History.builder();
    }

    private static CheckResult check(History.Builder history) {
        return CHECKER.check(history.build());
    }

    private static void assertLinearizable(History.Builder history) {
        CheckResult result = check(history);
        assertThat(result.verdict()).as(result.report()).isEqualTo(Verdict.LINEARIZABLE);
    }

    private static CheckResult assertNotLinearizable(History.Builder history) {
        CheckResult result = check(history);
        assertThat(result.verdict()).as(result.report()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        return result;
    }

    // --- the register ---

    @Test
    void anEmptyHistoryIsLinearizable() {
        assertLinearizable(history());
    }

    @Test
    void aKeyNeverWrittenReadsAbsent() {
        assertLinearizable(history().get(1, K, null, 0, 10));
        assertNotLinearizable(history().get(1, K, "a", 0, 10));
    }

    @Test
    void aReadAfterACompletedWriteSeesIt() {
        assertLinearizable(history().put(1, K, "a", 0, 10).get(2, K, "a", 20, 30));
    }

    @Test
    void aStaleReadAfterACompletedWriteIsAViolation() {
        CheckResult result = assertNotLinearizable(history()
                .put(1, K, "a", 0, 10)
                .put(1, K, "b", 20, 30)
                .get(2, K, "a", 40, 50));
        KeyResult key = result.keys().get(0);
        assertThat(key.longestPrefix()).extracting(Operation::id).containsExactly(0, 1);
        assertThat(key.unplaced()).extracting(Operation::id).containsExactly(2);
        assertThat(key.explanation())
                .contains("key \"k\": NOT LINEARIZABLE")
                .contains("#0 p1 PUT \"a\" [+0, +10] OK")
                .contains("register after it: \"b\"")
                .contains("#2 p2 GET -> \"a\" [+40, +50] OK: reads \"a\" but the register holds \"b\"");
    }

    @Test
    void aDeleteClearsTheRegister() {
        assertLinearizable(history().put(1, K, "a", 0, 10).delete(1, K, 20, 30).get(2, K, null, 40, 50));
        assertNotLinearizable(history().put(1, K, "a", 0, 10).delete(1, K, 20, 30).get(2, K, "a", 40, 50));
    }

    @Test
    void aReadConcurrentWithAWriteSeesTheOldOrTheNewValue() {
        assertLinearizable(history().put(1, K, "a", 0, 10).put(1, K, "b", 20, 60).get(2, K, "a", 30, 40));
        assertLinearizable(history().put(1, K, "a", 0, 10).put(1, K, "b", 20, 60).get(2, K, "b", 30, 40));
    }

    @Test
    void onceAReadSawTheNewValueALaterReadCannotSeeTheOldOne() {
        assertNotLinearizable(history()
                .put(1, K, "a", 0, 10)
                .put(1, K, "b", 20, 100)
                .get(2, K, "b", 30, 40)
                .get(3, K, "a", 50, 60));
    }

    @Test
    void concurrentWritesMayTakeEffectInEitherOrderAndReadsDuringThemMaySeeBoth() {
        assertLinearizable(history()
                .put(1, K, "a", 0, 100)
                .put(2, K, "b", 0, 100)
                .get(3, K, "b", 10, 20)
                .get(3, K, "a", 30, 40)
                .get(3, K, "a", 110, 120));
        assertLinearizable(history()
                .put(1, K, "a", 0, 100)
                .put(2, K, "b", 0, 100)
                .get(3, K, "b", 110, 120));
    }

    @Test
    void afterConcurrentWritesCompleteAllLaterReadsAgreeOnTheOrder() {
        assertNotLinearizable(history()
                .put(1, K, "a", 0, 100)
                .put(2, K, "b", 0, 100)
                .get(3, K, "a", 110, 120)
                .get(4, K, "b", 130, 140));
    }

    @Test
    void aReadOfAValueWrittenOnlyAfterTheReadCompletedIsAViolation() {
        CheckResult result = assertNotLinearizable(history().get(1, K, "a", 0, 10).put(2, K, "a", 20, 30));
        assertThat(result.keys().get(0).longestPrefix()).isEmpty();
        assertThat(result.report()).contains("reads \"a\" but the register holds absent");
    }

    @Test
    void operationsThatTouchAtOneInstantAreConcurrent() {
        assertLinearizable(history().put(1, K, "a", 0, 10).get(2, K, null, 10, 20));
    }

    // --- FAIL and INFO ---

    @Test
    void aFailedWriteMustNotBeSeen() {
        assertLinearizable(history().failedPut(1, K, "a", 0, 10).get(2, K, null, 20, 30));
        assertNotLinearizable(history().failedPut(1, K, "a", 0, 10).get(2, K, "a", 20, 30));
    }

    @Test
    void aTimedOutWriteMayTakeEffectLongAfterItsClientGaveUp() {
        assertLinearizable(history()
                .timedOutPut(1, K, "a", 0)
                .get(2, K, null, 10, 20)
                .get(2, K, null, 1_000, 1_010)
                .get(2, K, "a", 2_000, 2_010)
                .get(2, K, "a", 3_000, 3_010));
    }

    @Test
    void aTimedOutWriteMayNeverTakeEffect() {
        assertLinearizable(history().timedOutPut(1, K, "a", 0).get(2, K, null, 10, 20).get(2, K, null, 1_000, 1_010));
        assertLinearizable(history().put(1, K, "a", 0, 10).timedOutDelete(1, K, 20).get(2, K, "a", 1_000, 1_010));
    }

    @Test
    void aTimedOutWriteCannotTakeEffectBeforeItsInvocation() {
        assertNotLinearizable(history().get(1, K, "a", 0, 10).timedOutPut(2, K, "a", 20));
    }

    @Test
    void aTimedOutWriteTakesEffectAtMostOnce() {
        assertNotLinearizable(history()
                .timedOutPut(1, K, "a", 0)
                .get(2, K, "a", 10, 20)
                .put(2, K, "b", 30, 40)
                .get(2, K, "a", 50, 60));
    }

    @Test
    void aTimedOutWriteThatWasSeenIsLinearizedBeforeTheReadThatSawIt() {
        assertNotLinearizable(history()
                .put(1, K, "a", 0, 10)
                .timedOutPut(2, K, "b", 20)
                .get(3, K, "b", 30, 40)
                .get(3, K, "a", 50, 60));
    }

    @Test
    void timedOutWritesMayTakeEffectInAnOrderOtherThanTheirInvocations() {
        assertLinearizable(history()
                .timedOutPut(1, K, "a", 0)
                .timedOutPut(2, K, "b", 5)
                .get(3, K, "b", 10, 20)
                .get(3, K, "a", 30, 40));
    }

    @Test
    void timedOutWritesOfOneValueMayEachTakeEffect() {
        assertLinearizable(history()
                .timedOutPut(1, K, "a", 100)
                .timedOutPut(2, K, "a", 0)
                .get(3, K, "a", 10, 20)
                .put(3, K, "b", 30, 40)
                .get(3, K, "a", 200, 210));
        assertLinearizable(history()
                .put(1, K, "a", 0, 10)
                .timedOutDelete(1, K, 20)
                .timedOutDelete(2, K, 30)
                .get(3, K, null, 40, 50)
                .put(3, K, "b", 60, 70)
                .get(3, K, null, 80, 90));
    }

    @Test
    void timedOutAndFailedOperationsAreCountedAsDropped() {
        History.Builder builder = history().failedPut(1, K, "x", 0, 10).timedOutPut(2, K, "never read", 0)
                .put(3, K, "a", 0, 10);
        builder.add(4, K, OpKind.GET, null, 0, Operation.COMPLETION_UNKNOWN, Outcome.INFO);
        CheckResult result = check(builder);
        assertThat(result.verdict()).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(result.keys().get(0).operationsChecked()).isEqualTo(1);
        assertThat(result.keys().get(0).operationsDropped()).isEqualTo(3);
    }

    // --- keys, budget, report ---

    @Test
    void keysAreIndependentRegisters() {
        CheckResult result = assertNotLinearizable(history()
                .put(1, "x", "a", 0, 10)
                .get(2, "x", "a", 20, 30)
                .get(2, "y", "a", 20, 30));
        assertThat(result.keys()).extracting(KeyResult::key, KeyResult::verdict)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("x", Verdict.LINEARIZABLE),
                        org.assertj.core.groups.Tuple.tuple("y", Verdict.NOT_LINEARIZABLE));
        assertThat(result.report()).contains("key \"y\": NOT LINEARIZABLE").doesNotContain("key \"x\":");
        assertLinearizable(history().put(1, "x", "a", 0, 10).put(1, "y", "b", 20, 30)
                .get(2, "y", "b", 40, 50).get(2, "x", "a", 40, 50));
    }

    @Test
    void anExhaustedBudgetIsReportedAsUnknownNotAsAVerdict() {
        History history = history()
                .put(1, K, "a", 0, 100).put(2, K, "b", 0, 100).put(3, K, "c", 0, 100)
                .get(4, K, "c", 110, 120).build();
        CheckResult result = new LinearizabilityChecker(3).check(history);
        assertThat(result.verdict()).isEqualTo(Verdict.UNKNOWN);
        assertThat(result.isLinearizable()).isFalse();
        assertThat(result.keys().get(0).steps()).isEqualTo(3);
        assertThat(result.report()).contains("UNKNOWN (budget exhausted: 3 steps)");
        assertThat(CHECKER.check(history).verdict()).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void aViolationOutranksAnUnknownKey() {
        History history = history()
                .put(1, "a", "1", 0, 100).put(2, "a", "2", 0, 100).get(3, "a", "2", 110, 120)
                .get(4, "b", "ghost", 0, 10).build();
        CheckResult result = new LinearizabilityChecker(2).check(history);
        assertThat(result.keys()).extracting(KeyResult::verdict)
                .containsExactly(Verdict.UNKNOWN, Verdict.NOT_LINEARIZABLE);
        assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void aLinearizableKeyComesWithItsLinearization() {
        KeyResult key = check(history().put(1, K, "a", 0, 100).get(2, K, null, 10, 20).get(2, K, "a", 30, 40))
                .keys().get(0);
        assertThat(key.longestPrefix()).extracting(Operation::id).containsExactly(1, 0, 2);
        assertThat(key.explanation()).isEmpty();
    }

    @Test
    void byteArrayValuesCompareByContentAndPrintEscaped() {
        String value = RegisterValues.fromBytes(new byte[] {0, (byte) 0xff, 'x'});
        assertThat(RegisterValues.toBytes(value)).containsExactly(0, 0xff, 'x');
        assertLinearizable(history().put(1, K, value, 0, 10)
                .get(2, K, RegisterValues.fromBytes(new byte[] {0, (byte) 0xff, 'x'}), 20, 30));
        assertThat(check(history().get(1, K, value, 0, 10)).report()).contains("\"\\x00\\xffx\"");
    }

    // --- random histories ---

    @Test
    void agreesWithTheDefinitionOnEverySmallRandomHistory() {
        Random random = new Random(SEED);
        int violations = 0;
        for (int trial = 0; trial < 3_000; trial++) {
            History history = smallRandomHistory(random);
            boolean expected = BruteForceLinearizability.isLinearizable(history.operations());
            CheckResult result = CHECKER.check(history);
            assertThat(result.verdict()).as(seedMessage() + " trial " + trial + "\n" + history + result.report())
                    .isEqualTo(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE);
            violations += expected ? 0 : 1;
        }
        assertThat(violations).as("the generator must produce both kinds").isBetween(300, 2_700);
    }

    @Test
    void historiesOfARealSequentialExecutionAreLinearizableAndOneImpossibleReadBreaksThem() {
        Random random = new Random(SEED);
        for (int trial = 0; trial < 10; trial++) {
            History history = SequentialHistoryGenerator.generate(random, 3, 300);
            CheckResult result = CHECKER.check(history);
            assertThat(result.verdict()).as(seedMessage() + " trial " + trial + ": " + result.report())
                    .isEqualTo(Verdict.LINEARIZABLE);

            Operation read = randomOkRead(random, history);
            History mutated = withValue(history, read, "never-written");
            CheckResult broken = CHECKER.check(mutated);
            assertThat(broken.verdict()).as(seedMessage() + " trial " + trial + ": mutated " + read + "\n"
                    + broken.report()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            for (KeyResult key : broken.keys()) {
                assertThat(key.verdict()).as(seedMessage() + " key " + key.key()).isEqualTo(
                        key.key().equals(read.key()) ? Verdict.NOT_LINEARIZABLE : Verdict.LINEARIZABLE);
            }
            assertThat(broken.report()).contains("key \"" + read.key() + "\"");
        }
    }

    private static String seedMessage() {
        return "seed " + SEED + " (replay: -Dredoubt.seed=" + SEED + ")";
    }

    /** Up to 8 operations on one key, values from a small set so that writes collide, times in a short window. */
    private static History smallRandomHistory(Random random) {
        History.Builder builder = History.builder();
        int size = 1 + random.nextInt(8);
        String[] values = {null, "a", "b"};
        for (int i = 0; i < size; i++) {
            OpKind kind = OpKind.values()[random.nextInt(3)];
            long invoke = random.nextInt(20);
            long complete = invoke + random.nextInt(10);
            int outcome = random.nextInt(10);
            Outcome o = outcome < 6 ? Outcome.OK : outcome < 7 ? Outcome.FAIL : Outcome.INFO;
            String value = switch (kind) {
                case PUT -> values[1 + random.nextInt(2)];
                case GET -> o == Outcome.OK ? values[random.nextInt(3)] : null;
                case DELETE -> null;
            };
            builder.add(i, K, kind, value, invoke, o == Outcome.INFO ? Operation.COMPLETION_UNKNOWN : complete, o);
        }
        return builder.build();
    }

    private static Operation randomOkRead(Random random, History history) {
        List<Operation> reads = new ArrayList<>();
        for (Operation op : history.operations()) {
            if (op.kind() == OpKind.GET && op.outcome() == Outcome.OK) {
                reads.add(op);
            }
        }
        return reads.get(random.nextInt(reads.size()));
    }

    private static History withValue(History history, Operation read, String value) {
        List<Operation> ops = new ArrayList<>(history.operations());
        ops.set(read.id(), new Operation(read.id(), read.process(), read.key(), read.kind(), value, read.invokeNanos(),
                read.completeNanos(), read.outcome()));
        return History.of(ops);
    }
}
