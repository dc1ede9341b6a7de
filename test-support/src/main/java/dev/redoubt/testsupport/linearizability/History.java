package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A finished history of client operations on a key-value store, the input of {@link LinearizabilityChecker}.
 *
 * <h2>Format</h2>
 * A list of {@link Operation}s, operation {@code i} having id {@code i}. Each is one call of one client on one key:
 * {@code (id, process, key, kind, value, invokeNanos, completeNanos, outcome)}, where kind is PUT value, GET or
 * DELETE; outcome is OK (a GET then carries the value read, {@code null} for absent), FAIL (did not happen) or INFO
 * (may or may not have happened; completion time {@link Operation#COMPLETION_UNKNOWN}, i.e. +infinity). All times come
 * from one monotonic clock. Operation {@code a} precedes {@code b} in real time exactly when
 * {@code a.completeNanos < b.invokeNanos}; equal times count as concurrent, so a coarse clock never manufactures a
 * violation. Keys are independent registers, each initially absent.
 *
 * <p>Built by a {@link HistoryRecorder} during a test, or by {@link #builder()} from known times (hand-written cases,
 * a history read back from a log). Immutable and thread-safe.
 */
public final class History {
    private final List<Operation> operations;

    private History(List<Operation> operations) {
        for (int i = 0; i < operations.size(); i++) {
            if (operations.get(i).id() != i) {
                throw new IllegalArgumentException("operation at position " + i + " has id " + operations.get(i).id());
            }
        }
        this.operations = List.copyOf(operations);
    }

    /** The history of exactly these operations; operation {@code i} must have id {@code i}. */
    public static History of(List<Operation> operations) {
        return new History(operations);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every operation, FAIL and INFO ones included, in id order. */
    public List<Operation> operations() {
        return operations;
    }

    public int size() {
        return operations.size();
    }

    /** The operations of each key, in id order; keys sorted, so reports come out in a stable order. */
    public Map<String, List<Operation>> byKey() {
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation op : operations) {
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        byKey.replaceAll((k, ops) -> Collections.unmodifiableList(ops));
        return Collections.unmodifiableMap(byKey);
    }

    /** The earliest invocation: the origin of the times in reports ({@code 0} for an empty history). */
    public long originNanos() {
        long origin = Long.MAX_VALUE;
        for (Operation op : operations) {
            origin = Math.min(origin, op.invokeNanos());
        }
        return operations.isEmpty() ? 0 : origin;
    }

    /** One line per operation, times in ns since {@link #originNanos()}. */
    @Override
    public String toString() {
        long origin = originNanos();
        StringBuilder out = new StringBuilder("History of ").append(operations.size()).append(" operations, t0 = ")
                .append(origin).append(" ns\n");
        for (Operation op : operations) {
            out.append("  ").append(RegisterValues.describe(op.key())).append(' ').append(op.describe(origin))
                    .append('\n');
        }
        return out.toString();
    }

    /** Appends operations with given times, numbering them in order. Not thread-safe: use a {@link HistoryRecorder}. */
    public static final class Builder {
        private final List<Operation> operations = new ArrayList<>();

        private Builder() {
        }

        /** Appends any operation; returns its id. */
        public int add(int process, String key, OpKind kind, String value, long invokeNanos, long completeNanos,
                       Outcome outcome) {
            int id = operations.size();
            operations.add(new Operation(id, process, key, kind, value, invokeNanos, completeNanos, outcome));
            return id;
        }

        public Builder put(int process, String key, String value, long invokeNanos, long completeNanos) {
            add(process, key, OpKind.PUT, value, invokeNanos, completeNanos, Outcome.OK);
            return this;
        }

        /** A GET that returned {@code valueRead} ({@code null}: absent). */
        public Builder get(int process, String key, String valueRead, long invokeNanos, long completeNanos) {
            add(process, key, OpKind.GET, valueRead, invokeNanos, completeNanos, Outcome.OK);
            return this;
        }

        public Builder delete(int process, String key, long invokeNanos, long completeNanos) {
            add(process, key, OpKind.DELETE, null, invokeNanos, completeNanos, Outcome.OK);
            return this;
        }

        /** A PUT the store refused: it did not happen. */
        public Builder failedPut(int process, String key, String value, long invokeNanos, long completeNanos) {
            add(process, key, OpKind.PUT, value, invokeNanos, completeNanos, Outcome.FAIL);
            return this;
        }

        /** A PUT whose client timed out: it may take effect at any moment after {@code invokeNanos}, or never. */
        public Builder timedOutPut(int process, String key, String value, long invokeNanos) {
            add(process, key, OpKind.PUT, value, invokeNanos, Operation.COMPLETION_UNKNOWN, Outcome.INFO);
            return this;
        }

        /** A DELETE whose client timed out. */
        public Builder timedOutDelete(int process, String key, long invokeNanos) {
            add(process, key, OpKind.DELETE, null, invokeNanos, Operation.COMPLETION_UNKNOWN, Outcome.INFO);
            return this;
        }

        public History build() {
            return new History(operations);
        }
    }
}
