package dev.redoubt.testsupport.linearizability;

import java.util.Objects;

/**
 * One client operation on one key, as the client saw it: when it was invoked, when it completed and how.
 *
 * <ul>
 *   <li>{@code id}: its position in its {@link History} (0, 1, 2...), used to name it in reports.</li>
 *   <li>{@code process}: the client that ran it; only reported, since the checker orders operations by time alone
 *       (a client that reuses its id after a timeout does not confuse it).</li>
 *   <li>{@code value}: for a PUT the value written (never {@code null}); for a GET that is {@link Outcome#OK} the
 *       value read, {@code null} for absent; otherwise {@code null}. See {@link RegisterValues} for byte arrays.</li>
 *   <li>{@code invokeNanos}, {@code completeNanos}: from one monotonic clock ({@link System#nanoTime()} in the
 *       {@link HistoryRecorder}); {@code completeNanos >= invokeNanos}, and it is {@link #COMPLETION_UNKNOWN} exactly
 *       when the outcome is {@link Outcome#INFO}.</li>
 * </ul>
 */
public record Operation(int id, int process, String key, OpKind kind, String value, long invokeNanos,
                        long completeNanos, Outcome outcome) {

    /** The completion time of an {@link Outcome#INFO} operation: it may take effect at any later moment. */
    public static final long COMPLETION_UNKNOWN = Long.MAX_VALUE;

    public Operation {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(outcome, "outcome");
        if (id < 0) {
            throw new IllegalArgumentException("negative id " + id);
        }
        if (kind == OpKind.PUT && value == null) {
            throw new IllegalArgumentException("a PUT writes a value; use DELETE to clear (op " + id + ")");
        }
        if (value != null && kind == OpKind.DELETE) {
            throw new IllegalArgumentException("a DELETE carries no value (op " + id + ")");
        }
        if (value != null && kind == OpKind.GET && outcome != Outcome.OK) {
            throw new IllegalArgumentException("only a GET that is OK read a value (op " + id + ")");
        }
        if (invokeNanos == COMPLETION_UNKNOWN) {
            throw new IllegalArgumentException("invocation time out of range (op " + id + ")");
        }
        if ((outcome == Outcome.INFO) != (completeNanos == COMPLETION_UNKNOWN)) {
            throw new IllegalArgumentException("the completion time is COMPLETION_UNKNOWN exactly for INFO (op " + id
                    + ")");
        }
        if (completeNanos < invokeNanos) {
            throw new IllegalArgumentException("op " + id + " completed at " + completeNanos + " before its invocation at "
                    + invokeNanos);
        }
    }

    /** A PUT or a DELETE. */
    public boolean isWrite() {
        return kind != OpKind.GET;
    }

    /** One line for a report, times in ns since {@code originNanos}: {@code #4 p2 GET -> "b" [+40, +50] OK}. */
    String describe(long originNanos) {
        StringBuilder out = new StringBuilder().append('#').append(id).append(" p").append(process).append(' ')
                .append(kind);
        if (kind == OpKind.PUT) {
            out.append(' ').append(RegisterValues.describe(value));
        } else if (kind == OpKind.GET && outcome == Outcome.OK) {
            out.append(" -> ").append(RegisterValues.describe(value));
        }
        out.append(" [+").append(invokeNanos - originNanos).append(", ");
        out.append(completeNanos == COMPLETION_UNKNOWN ? "+inf" : "+" + (completeNanos - originNanos));
        return out.append("] ").append(outcome).toString();
    }
}
