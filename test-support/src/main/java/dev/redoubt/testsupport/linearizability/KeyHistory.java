package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The operations of one key that the search must place, in id order; local index {@code i} is {@code ops.get(i)}.
 * Dropped before the search, since each has a linearization exactly when the history without it has one:
 * <ul>
 *   <li>FAIL operations: they did not happen.</li>
 *   <li>GETs that are not OK: they returned nothing to check, and a read does not change the register.</li>
 *   <li>INFO writes whose value ({@code null} for a DELETE) no OK GET returned that completed at or after the
 *       write's invocation: in any linearization the reads between such a write and the next write return its value
 *       and come after its invocation, so there are none, and the write can move to the end, where an INFO write is
 *       always allowed. Dropping them keeps histories full of timed-out writes with unique values cheap to check.</li>
 * </ul>
 */
final class KeyHistory {
    final String key;
    final List<Operation> ops;
    final int failedDropped;
    final int indeterminateReadsDropped;
    final int unobservedIndeterminateWritesDropped;

    private KeyHistory(String key, List<Operation> ops, int failed, int reads, int writes) {
        this.key = key;
        this.ops = ops;
        this.failedDropped = failed;
        this.indeterminateReadsDropped = reads;
        this.unobservedIndeterminateWritesDropped = writes;
    }

    static KeyHistory of(String key, List<Operation> keyOps) {
        // Value (null: absent) -> the latest completion of an OK GET that returned it.
        Map<String, Long> lastReadNanos = new HashMap<>();
        for (Operation op : keyOps) {
            if (op.kind() == OpKind.GET && op.outcome() == Outcome.OK) {
                lastReadNanos.merge(op.value(), op.completeNanos(), Math::max);
            }
        }
        List<Operation> kept = new ArrayList<>();
        int failed = 0;
        int reads = 0;
        int writes = 0;
        for (Operation op : keyOps) {
            if (op.outcome() == Outcome.FAIL) {
                failed++;
            } else if (op.kind() == OpKind.GET && op.outcome() != Outcome.OK) {
                reads++;
            } else if (op.isWrite() && op.outcome() == Outcome.INFO
                    && lastReadNanos.getOrDefault(op.value(), Long.MIN_VALUE) < op.invokeNanos()) {
                writes++;
            } else {
                kept.add(op);
            }
        }
        return new KeyHistory(key, List.copyOf(kept), failed, reads, writes);
    }

    int droppedCount() {
        return failedDropped + indeterminateReadsDropped + unobservedIndeterminateWritesDropped;
    }
}
