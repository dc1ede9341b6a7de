package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Decides whether a {@link History} of a key-value store is linearizable: whether every key's operations can be put
 * in one order that respects real time (an operation that completed before another was invoked comes first) and in
 * which each GET returns what the last PUT wrote (absent after a DELETE, or before any write).
 *
 * <h2>Usage</h2>
 * <pre>{@code
 * HistoryRecorder recorder = new HistoryRecorder();
 * // in each client thread: int op = recorder.invokePut(process, key, value); ... recorder.ok(op) / fail / timeout
 * CheckResult result = new LinearizabilityChecker().check(recorder.history());
 * assertTrue(result.isLinearizable(), result::report);
 * }</pre>
 *
 * <h2>History</h2>
 * See {@link History}: operations with a process, a key, a kind (PUT value, GET, DELETE), invocation and completion
 * times in ns, and an outcome: OK (a GET with the value read), FAIL (did not happen: dropped), INFO (timed out: may
 * take effect at any moment after its invocation or never, so it completes at +infinity; an INFO GET is dropped,
 * having returned nothing). Values are strings compared by content ({@link RegisterValues}).
 *
 * <h2>Algorithm</h2>
 * <ol>
 *   <li><b>Per key</b> (P-compositionality, Herlihy and Wing): a history is linearizable exactly when the history of
 *       each key is, so each key is checked alone against a register (initially absent; PUT sets, DELETE clears,
 *       GET must return the value held) — small searches instead of one exponential one.</li>
 *   <li><b>Pruning</b>: FAIL operations, INFO GETs, and INFO writes whose value no GET completing after their
 *       invocation returned are dropped; each leaves the answer unchanged (the argument is in {@code KeyHistory}).</li>
 *   <li><b>Search</b> (Wing and Gong 1993, with Lowe's memoization 2017, as in porcupine): the calls and returns in
 *       time order form a list; the search repeatedly linearizes some operation whose call precedes every pending
 *       return, and backtracks when it meets the return of an operation it has not linearized. It remembers every
 *       configuration (bitset of linearized operations, register state) it has entered and never enters one twice,
 *       so its work is bounded by the configurations, not the orders. Timed-out writes with the same effect are
 *       interchangeable and are linearized in invocation order only ({@code RegisterSearch}).</li>
 *   <li><b>Budget</b>: each key's search stops after {@code stepsPerKeyMax} steps (events visited) with
 *       {@link Verdict#UNKNOWN}, reported distinctly, never looping for ever. The memo holds at most one entry per
 *       step, so the budget bounds memory too (about 150 bytes an entry for 500 operations).</li>
 *   <li><b>Report</b>: for a key that is not linearizable, a longest linearizable prefix found, the register value
 *       after it, and the operations of which one had to come next and none could, with their times and why
 *       ({@code ViolationReport}).</li>
 * </ol>
 * The answer is exact: {@link Verdict#LINEARIZABLE} comes with a linearization
 * ({@link KeyResult#longestPrefix()}), {@link Verdict#NOT_LINEARIZABLE} means none exists. Cost: for a
 * history with at most c operations in flight at once it visits O(n · 2^c) configurations; a timed-out write that
 * was read has no deadline, so it counts toward c until it is placed.
 *
 * <p>Immutable and thread-safe; each {@link #check} works alone, on the calling thread.
 */
public final class LinearizabilityChecker {
    /**
     * The default step budget of one key: enough for thousands of operations with a handful in flight (a linearizable
     * history costs a few steps per operation; a violation in a generated history of 2 600 operations per key took
     * 255 000), and a memo of at most about 150 MB for a key of 500 operations.
     */
    public static final long STEPS_PER_KEY_MAX_DEFAULT = 1_000_000;

    private final long stepsPerKeyMax;

    public LinearizabilityChecker() {
        this(STEPS_PER_KEY_MAX_DEFAULT);
    }

    /** A checker whose search gives up on a key after {@code stepsPerKeyMax} steps. */
    public LinearizabilityChecker(long stepsPerKeyMax) {
        if (stepsPerKeyMax < 1) {
            throw new IllegalArgumentException("stepsPerKeyMax must be positive: " + stepsPerKeyMax);
        }
        this.stepsPerKeyMax = stepsPerKeyMax;
    }

    public CheckResult check(History history) {
        long originNanos = history.originNanos();
        List<KeyResult> results = new ArrayList<>();
        for (Map.Entry<String, List<Operation>> key : history.byKey().entrySet()) {
            results.add(checkKey(KeyHistory.of(key.getKey(), key.getValue()), originNanos));
        }
        return new CheckResult(results);
    }

    private KeyResult checkKey(KeyHistory keyHistory, long originNanos) {
        RegisterModel model = new RegisterModel(keyHistory.ops);
        RegisterSearch.Result search = new RegisterSearch(keyHistory, model, stepsPerKeyMax).run();
        if (search.verdict() == Verdict.LINEARIZABLE) {
            List<Operation> order = new ArrayList<>();
            for (int op : search.longestPrefix()) {
                order.add(keyHistory.ops.get(op));
            }
            return new KeyResult(keyHistory.key, Verdict.LINEARIZABLE, keyHistory.ops.size(), keyHistory.droppedCount(),
                    search.steps(), order, List.of(), "");
        }
        return ViolationReport.of(keyHistory, model, search, stepsPerKeyMax, originNanos);
    }
}
