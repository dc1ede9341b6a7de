package dev.redoubt.testsupport.linearizability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HistoryRecorderTest {

    /** A clock that moves 10 ns at each read, so every recorded time is known. */
    private static HistoryRecorder recorderWithTickingClock() {
        AtomicLong now = new AtomicLong();
        return new HistoryRecorder(() -> now.addAndGet(10));
    }

    @Test
    void recordsEachOutcomeWithTheTimesOfItsInvocationAndCompletion() {
        HistoryRecorder recorder = recorderWithTickingClock();
        int put = recorder.invokePut(1, "k", "a");
        int get = recorder.invokeGet(2, "k");
        recorder.ok(put);
        recorder.okRead(get, "a");
        int delete = recorder.invokeDelete(1, "k");
        recorder.fail(delete);
        int timedOut = recorder.invokePut(3, "k", "b");
        recorder.timeout(timedOut);

        assertThat(recorder.history().operations()).containsExactly(
                new Operation(0, 1, "k", OpKind.PUT, "a", 10, 30, Outcome.OK),
                new Operation(1, 2, "k", OpKind.GET, "a", 20, 40, Outcome.OK),
                new Operation(2, 1, "k", OpKind.DELETE, null, 50, 60, Outcome.FAIL),
                new Operation(3, 3, "k", OpKind.PUT, "b", 70, Operation.COMPLETION_UNKNOWN, Outcome.INFO));
    }

    @Test
    void anOperationStillOpenWhenTheHistoryIsTakenIsIndeterminate() {
        HistoryRecorder recorder = recorderWithTickingClock();
        recorder.invokePut(1, "k", "a");
        recorder.invokeGet(2, "k");
        assertThat(recorder.history().operations()).extracting(Operation::outcome, Operation::completeNanos,
                Operation::value).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Outcome.INFO, Operation.COMPLETION_UNKNOWN, "a"),
                org.assertj.core.groups.Tuple.tuple(Outcome.INFO, Operation.COMPLETION_UNKNOWN, null));
    }

    @Test
    void anOperationCompletesOnceAndAReadCompletesWithTheValueItRead() {
        HistoryRecorder recorder = recorderWithTickingClock();
        int put = recorder.invokePut(1, "k", "a");
        int get = recorder.invokeGet(1, "k");
        recorder.ok(put);
        assertThatThrownBy(() -> recorder.timeout(put)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already completed OK");
        assertThatThrownBy(() -> recorder.ok(get)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("okRead");
        assertThatThrownBy(() -> recorder.okRead(put, "a")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> recorder.ok(7)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> recorder.invokePut(1, "k", null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aStoreThatServesStaleReadsIsCaught() {
        HistoryRecorder recorder = new HistoryRecorder();
        String cached = null;
        for (String value : new String[] {"a", "b"}) {
            int op = recorder.invokePut(1, "k", value);
            cached = cached == null ? value : cached; // the bug: a read cache that is never invalidated
            recorder.ok(op);
        }
        int read = recorder.invokeGet(2, "k");
        recorder.okRead(read, cached);

        CheckResult result = new LinearizabilityChecker().check(recorder.history());
        assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(result.keys().get(0).unplaced()).extracting(Operation::id).containsExactly(read);
        assertThat(result.report()).contains("reads \"a\" but the register holds \"b\"");
    }

    @Test
    void concurrentClientsOfAnAtomicMapRecordALinearizableHistory() throws Exception {
        HistoryRecorder recorder = new HistoryRecorder();
        Map<String, String> store = new ConcurrentHashMap<>();
        int clients = 4;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(new Thread(() -> {
                Random random = new Random(client);
                awaitQuietly(start);
                for (int i = 0; i < 300; i++) {
                    String key = "k" + random.nextInt(3);
                    int kind = random.nextInt(10);
                    if (kind < 4) {
                        String value = client + "-" + i;
                        int op = recorder.invokePut(client, key, value);
                        store.put(key, value);
                        recorder.ok(op);
                    } else if (kind < 5) {
                        int op = recorder.invokeDelete(client, key);
                        store.remove(key);
                        recorder.ok(op);
                    } else {
                        int op = recorder.invokeGet(client, key);
                        recorder.okRead(op, store.get(key));
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        History history = recorder.history();
        assertThat(history.size()).isEqualTo(clients * 300);
        CheckResult result = new LinearizabilityChecker().check(history);
        assertThat(result.verdict()).as(result.report()).isEqualTo(Verdict.LINEARIZABLE);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
