package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Records a {@link History} while clients run: each client calls {@code invoke*} just before it sends a request and
 * {@link #ok}, {@link #okRead}, {@link #fail} or {@link #timeout} once it knows the outcome.
 *
 * <pre>{@code
 * int op = recorder.invokePut(process, key, value);
 * try { client.put(key, value); recorder.ok(op); }
 * catch (Refused e) { recorder.fail(op); }        // definitely not applied
 * catch (TimeoutException e) { recorder.timeout(op); } // may have been applied
 * }</pre>
 *
 * The invocation time is read inside {@code invoke*}, before the request leaves, and the completion time inside the
 * completing call, after the response arrived, so the recorded interval always contains the real one. An operation
 * that is still open when {@link #history()} is taken counts as {@link Outcome#INFO}.
 *
 * <p>Thread-safe: every method may be called from any thread; all take one lock (held for a clock read and a list
 * append). Completing an operation twice, or a GET with {@link #ok} rather than {@link #okRead}, throws
 * {@link IllegalStateException}.
 */
public final class HistoryRecorder {
    private final LongSupplier clockNanos;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}: every operation so far, index = id; open ones have {@code outcome == null}. */
    private final List<Open> operations = new ArrayList<>();

    /** Times from {@link System#nanoTime()}. */
    public HistoryRecorder() {
        this(System::nanoTime);
    }

    /** Times from {@code clockNanos}, which must be monotonic across threads. */
    public HistoryRecorder(LongSupplier clockNanos) {
        this.clockNanos = clockNanos;
    }

    /** Returns the id that completes the operation. */
    public int invokePut(int process, String key, String value) {
        if (value == null) {
            throw new IllegalArgumentException("a PUT writes a value; use invokeDelete to clear");
        }
        return invoke(process, key, OpKind.PUT, value);
    }

    public int invokeGet(int process, String key) {
        return invoke(process, key, OpKind.GET, null);
    }

    public int invokeDelete(int process, String key) {
        return invoke(process, key, OpKind.DELETE, null);
    }

    /** A PUT or DELETE succeeded. */
    public void ok(int op) {
        complete(op, Outcome.OK, null, false);
    }

    /** A GET succeeded and read {@code valueRead} ({@code null}: absent). */
    public void okRead(int op, String valueRead) {
        complete(op, Outcome.OK, valueRead, true);
    }

    /** The operation definitely did not take effect. */
    public void fail(int op) {
        complete(op, Outcome.FAIL, null, false);
    }

    /** The outcome is unknown (a timeout, a lost connection): it may take effect at any later moment, or never. */
    public void timeout(int op) {
        complete(op, Outcome.INFO, null, false);
    }

    /** Everything recorded so far; operations not completed yet are {@link Outcome#INFO}. */
    public History history() {
        synchronized (lock) {
            List<Operation> ops = new ArrayList<>(operations.size());
            for (int id = 0; id < operations.size(); id++) {
                Open o = operations.get(id);
                Outcome outcome = o.outcome == null ? Outcome.INFO : o.outcome;
                long complete = outcome == Outcome.INFO ? Operation.COMPLETION_UNKNOWN : o.completeNanos;
                String value = o.kind == OpKind.GET && outcome != Outcome.OK ? null : o.value;
                ops.add(new Operation(id, o.process, o.key, o.kind, value, o.invokeNanos, complete, outcome));
            }
            return History.of(ops);
        }
    }

    private int invoke(int process, String key, OpKind kind, String value) {
        if (key == null) {
            throw new IllegalArgumentException("null key");
        }
        synchronized (lock) {
            operations.add(new Open(process, key, kind, value, clockNanos.getAsLong()));
            return operations.size() - 1;
        }
    }

    private void complete(int op, Outcome outcome, String valueRead, boolean isRead) {
        synchronized (lock) {
            if (op < 0 || op >= operations.size()) {
                throw new IllegalStateException("no operation " + op);
            }
            Open o = operations.get(op);
            if (o.outcome != null) {
                throw new IllegalStateException("operation " + op + " already completed " + o.outcome);
            }
            if (isRead != (o.kind == OpKind.GET && outcome == Outcome.OK)) {
                throw new IllegalStateException("operation " + op + " is a " + o.kind
                        + (isRead ? ": only a GET completes with okRead" : ": a GET that succeeds completes with okRead"));
            }
            o.completeNanos = clockNanos.getAsLong();
            o.outcome = outcome;
            if (isRead) {
                o.value = valueRead;
            }
        }
    }

    /** An operation as recorded so far. Guarded by the recorder's lock. */
    private static final class Open {
        final int process;
        final String key;
        final OpKind kind;
        final long invokeNanos;
        String value;
        long completeNanos;
        Outcome outcome;

        Open(int process, String key, OpKind kind, String value, long invokeNanos) {
            this.process = process;
            this.key = key;
            this.kind = kind;
            this.value = value;
            this.invokeNanos = invokeNanos;
        }
    }
}
