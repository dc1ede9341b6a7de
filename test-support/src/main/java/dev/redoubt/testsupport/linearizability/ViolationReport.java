package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Turns a search that did not prove a key linearizable (a violation, or a budget exhausted) into a
 * {@link KeyResult} a person can act on: the deepest
 * configuration the search reached (a longest linearizable prefix and the register value after it) and, when it is
 * a violation, the operations that could not come next. Those are the unplaced operations invoked by the earliest
 * completion among them (one of them must be next, since that one has returned), each with why: a GET that reads
 * something else than the register holds, or one that fits but leaves no way to place the rest.
 */
final class ViolationReport {
    /** The report shows the end of the prefix, where the trouble is; at most this many operations. */
    static final int PREFIX_SHOWN_MAX = 20;
    static final int UNPLACED_SHOWN_MAX = 20;

    private ViolationReport() {
    }

    static KeyResult of(KeyHistory history, RegisterModel model, RegisterSearch.Result search, long stepsMax,
                        long originNanos) {
        assert search.verdict() != Verdict.LINEARIZABLE;
        List<Operation> ops = history.ops;
        List<Operation> prefix = new ArrayList<>();
        boolean[] placed = new boolean[ops.size()];
        for (int op : search.longestPrefix()) {
            prefix.add(ops.get(op));
            placed[op] = true;
        }
        long deadlineNanos = Operation.COMPLETION_UNKNOWN;
        for (int op = 0; op < ops.size(); op++) {
            if (!placed[op]) {
                deadlineNanos = Math.min(deadlineNanos, ops.get(op).completeNanos());
            }
        }
        List<Integer> unplaced = new ArrayList<>();
        for (int op = 0; op < ops.size(); op++) {
            if (!placed[op] && ops.get(op).invokeNanos() <= deadlineNanos) {
                unplaced.add(op);
            }
        }
        unplaced.sort(Comparator.comparingLong(op -> ops.get(op).invokeNanos()));

        StringBuilder out = new StringBuilder();
        out.append("key ").append(RegisterValues.describe(history.key)).append(": ");
        if (search.verdict() == Verdict.UNKNOWN) {
            out.append("UNKNOWN (budget exhausted: ").append(stepsMax).append(" steps)");
        } else {
            out.append("NOT LINEARIZABLE");
        }
        out.append("; ").append(ops.size()).append(" operations checked (dropped: ").append(history.failedDropped)
                .append(" FAIL, ").append(history.indeterminateReadsDropped).append(" INFO GET, ")
                .append(history.unobservedIndeterminateWritesDropped).append(" INFO writes not read after their invocation), ")
                .append(search.steps()).append(" steps\n");
        out.append("  times in ns since t0 = ").append(originNanos).append(" (the history's first invocation)\n");
        appendPrefix(out, prefix, ops.size(), originNanos);
        out.append("  register after it: ").append(RegisterValues.describe(model.valueOf(search.stateAfterPrefix())))
                .append('\n');
        List<Operation> unplacedOps = new ArrayList<>();
        for (int op : unplaced) {
            unplacedOps.add(ops.get(op));
        }
        if (search.verdict() == Verdict.UNKNOWN) {
            out.append("  the search gave up before deciding; pass a larger budget to LinearizabilityChecker, or "
                    + "record fewer concurrent or timed-out operations per key\n");
            return new KeyResult(history.key, Verdict.UNKNOWN, ops.size(), history.droppedCount(), search.steps(),
                    prefix, List.of(), out.toString());
        }
        out.append("  one of these must come next (").append(deadlineNanos == Operation.COMPLETION_UNKNOWN
                ? "none has completed" : "one completed at +" + (deadlineNanos - originNanos))
                .append("), and none can:\n");
        int shown = 0;
        for (int op : unplaced) {
            if (shown++ == UNPLACED_SHOWN_MAX) {
                out.append("    ... ").append(unplaced.size() - UNPLACED_SHOWN_MAX).append(" more\n");
                break;
            }
            out.append("    ").append(ops.get(op).describe(originNanos)).append(": ")
                    .append(whyNot(model, search.stateAfterPrefix(), op, ops.get(op))).append('\n');
        }
        return new KeyResult(history.key, Verdict.NOT_LINEARIZABLE, ops.size(), history.droppedCount(), search.steps(),
                prefix, unplacedOps, out.toString());
    }

    private static void appendPrefix(StringBuilder out, List<Operation> prefix, int total, long originNanos) {
        out.append("  a longest linearizable prefix: ").append(prefix.size()).append(" of ").append(total)
                .append(" operations, in linearization order").append(prefix.isEmpty() ? " (none)" : ":").append('\n');
        int from = Math.max(0, prefix.size() - PREFIX_SHOWN_MAX);
        if (from > 0) {
            out.append("    ... ").append(from).append(" earlier\n");
        }
        for (Operation op : prefix.subList(from, prefix.size())) {
            out.append("    ").append(op.describe(originNanos)).append('\n');
        }
    }

    private static String whyNot(RegisterModel model, int state, int op, Operation operation) {
        if (model.step(state, op) == RegisterModel.ILLEGAL) {
            return "reads " + RegisterValues.describe(operation.value()) + " but the register holds "
                    + RegisterValues.describe(model.valueOf(state));
        }
        return "fits here, but then the rest cannot be ordered";
    }
}
