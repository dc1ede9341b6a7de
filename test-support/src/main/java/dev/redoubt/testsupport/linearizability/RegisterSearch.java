package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Wing–Gong search with Lowe's memoization over one {@link KeyHistory}, as porcupine's {@code checkSingle}.
 *
 * <p>Walk the {@link EntryList} from its first event. At a call, try to linearize that operation next: if the
 * {@link RegisterModel} allows it and the configuration it leads to (the set of linearized operations, the register
 * state) was never reached before, push it, lift it out of the list and restart from the first event; otherwise try
 * the next event. At a return, the operation returning there should already have been linearized, so the last choice
 * was wrong: pop it, put it back and try the call after it. An empty list means every operation is placed
 * (linearizable); a return with nothing to pop means no order works (not linearizable). The memo is sound because
 * what can follow depends only on the configuration, and it bounds the work by the number of reachable
 * configurations instead of orders. Each event visited is a step; past {@code stepsMax} the answer is
 * {@link Verdict#UNKNOWN}.
 *
 * <p>One reduction on top: INFO writes with the same effect (DELETEs, or PUTs of one value) are interchangeable once
 * invoked, since none has a deadline, so they are linearized only in invocation order: any linearization that uses a
 * later one before an earlier one can swap them. Without it, k timed-out DELETEs pending together would multiply the
 * configurations by 2^k.
 *
 * <p>Not thread-safe: one search, one thread.
 */
final class RegisterSearch {

    /**
     * The verdict, the steps taken, and the deepest configuration reached: the operations of a longest linearizable
     * prefix in linearization order (local indexes) and the register state after them.
     */
    record Result(Verdict verdict, long steps, int[] longestPrefix, int stateAfterPrefix) {
    }

    private final KeyHistory history;
    private final RegisterModel model;
    private final long stepsMax;
    /** For an INFO write, the interchangeable INFO write invoked just before it (which goes first), else -1. */
    private final int[] previousTwin;

    private final long[] linearized;
    private final EntryList.Entry[] stackCalls;
    private final int[] stackStates;
    private final Set<Configuration> visited = new HashSet<>();
    private int depth;
    private int[] longestPrefix = new int[0];
    private int stateAfterLongest = RegisterModel.ABSENT;

    RegisterSearch(KeyHistory history, RegisterModel model, long stepsMax) {
        this.history = history;
        this.model = model;
        this.stepsMax = stepsMax;
        int n = history.ops.size();
        this.linearized = new long[(n + 63) / 64];
        this.stackCalls = new EntryList.Entry[n];
        this.stackStates = new int[n];
        this.previousTwin = previousTwins(history.ops, model);
    }

    private static int[] previousTwins(List<Operation> ops, RegisterModel model) {
        int[] previous = new int[ops.size()];
        Arrays.fill(previous, -1);
        Map<Integer, Integer> lastOfEffect = new HashMap<>();
        List<Integer> byInvocation = new ArrayList<>();
        for (int op = 0; op < ops.size(); op++) {
            if (ops.get(op).isWrite() && ops.get(op).outcome() == Outcome.INFO) {
                byInvocation.add(op);
            }
        }
        // The same order as their calls in the EntryList: invocation time, then index.
        byInvocation.sort(Comparator.<Integer>comparingLong(op -> ops.get(op).invokeNanos()).thenComparing(op -> op));
        for (int op : byInvocation) {
            Integer last = lastOfEffect.put(model.step(RegisterModel.ABSENT, op), op);
            previous[op] = last == null ? -1 : last;
        }
        return previous;
    }

    Result run() {
        EntryList list = new EntryList(history.ops);
        int state = RegisterModel.ABSENT;
        EntryList.Entry entry = list.first();
        long steps = 0;
        while (list.first() != null) {
            if (steps == stepsMax) {
                return new Result(Verdict.UNKNOWN, steps, longestPrefix, stateAfterLongest);
            }
            steps++;
            if (entry.isCall) {
                int next = model.step(state, entry.op);
                if (next != RegisterModel.ILLEGAL && twinPlaced(entry.op) && firstVisit(entry.op, next)) {
                    stackCalls[depth] = entry;
                    stackStates[depth] = state;
                    depth++;
                    setBit(entry.op);
                    state = next;
                    EntryList.lift(entry);
                    if (depth > longestPrefix.length) {
                        rememberLongest(state);
                    }
                    entry = list.first();
                } else {
                    entry = entry.next;
                }
            } else {
                if (depth == 0) {
                    return new Result(Verdict.NOT_LINEARIZABLE, steps, longestPrefix, stateAfterLongest);
                }
                depth--;
                entry = stackCalls[depth];
                state = stackStates[depth];
                clearBit(entry.op);
                EntryList.unlift(entry);
                entry = entry.next;
            }
        }
        return new Result(Verdict.LINEARIZABLE, steps, longestPrefix, stateAfterLongest);
    }

    private boolean twinPlaced(int op) {
        int twin = previousTwin[op];
        return twin < 0 || (linearized[twin >>> 6] & 1L << twin) != 0;
    }

    /** Marks the configuration "linearized set plus {@code op}, in {@code state}" visited; false if it already was. */
    private boolean firstVisit(int op, int state) {
        long[] words = linearized.clone();
        words[op >>> 6] |= 1L << op;
        return visited.add(new Configuration(words, state));
    }

    private void rememberLongest(int state) {
        longestPrefix = new int[depth];
        for (int i = 0; i < depth; i++) {
            longestPrefix[i] = stackCalls[i].op;
        }
        stateAfterLongest = state;
    }

    private void setBit(int op) {
        linearized[op >>> 6] |= 1L << op;
    }

    private void clearBit(int op) {
        linearized[op >>> 6] &= ~(1L << op);
    }

    /** A memo key: which operations are linearized (a bitset) and the register state after them. */
    private static final class Configuration {
        private final long[] linearized;
        private final int state;
        private final int hash;

        Configuration(long[] linearized, int state) {
            this.linearized = linearized;
            this.state = state;
            this.hash = 31 * Arrays.hashCode(linearized) + state;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Configuration c && c.state == state && Arrays.equals(c.linearized, linearized);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
