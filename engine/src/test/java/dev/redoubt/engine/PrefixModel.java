package dev.redoubt.engine;

import dev.redoubt.engine.ProcessEnv.Death;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a Db written by one thread must hold after a death: the state verified at the last reopen ({@code base}),
 * the writes since then in acknowledgement order (with one writer, LSN order), how many of them must survive, and
 * possibly one last write that was in flight when the process died (it may or may not survive).
 *
 * <p>{@link #survivingPrefix} is the check: what was recovered must equal {@code base} plus exactly the first k
 * writes, for some k from {@link #mustSurvive()} on. Comparing whole states against every candidate prefix proves
 * in one go that nothing durable was lost, that there is no hole among the survivors, that no batch is partly
 * applied and that nothing appears that was never written.
 *
 * <p>Not thread-safe: the writer thread owns it.
 */
final class PrefixModel {

    /** One write's effect: key to value, null for a delete; later operations on a key win, as in a batch. */
    static final class Write {
        final boolean sync;
        final NavigableMap<byte[], byte[]> changes = new TreeMap<>(Arrays::compareUnsigned);

        Write(boolean sync) {
            this.sync = sync;
        }

        Write put(byte[] key, byte[] value) {
            changes.put(key, value);
            return this;
        }

        Write delete(byte[] key) {
            changes.put(key, null);
            return this;
        }

        WriteOptions options() {
            return sync ? WriteOptions.SYNC : WriteOptions.ASYNC;
        }

        void applyTo(Map<byte[], byte[]> state) {
            changes.forEach((k, v) -> {
                if (v == null) {
                    state.remove(k);
                } else {
                    state.put(k, v);
                }
            });
        }
    }

    private NavigableMap<byte[], byte[]> base = new TreeMap<>(Arrays::compareUnsigned);
    /** base + every acknowledged write: what reads in the live process see. */
    private NavigableMap<byte[], byte[]> current = new TreeMap<>(Arrays::compareUnsigned);
    private final List<Write> writes = new ArrayList<>();
    /** The first {@code durable} writes were fsynced: they survive any death. */
    private int durable;
    /** Whether the power was lost since the last reopen; if not, every acknowledged write is in the OS. */
    private boolean powerLost;
    private boolean lastInFlight;
    /** How the last process died, for failure messages. */
    String lastDeath = "(no death yet)";

    /** What reads in the live process must see. */
    NavigableMap<byte[], byte[]> current() {
        return current;
    }

    /** The write returned: it is in the log; a {@code SYNC} one makes it and every write before it durable. */
    void acknowledged(Write write) {
        writes.add(write);
        write.applyTo(current);
        if (write.sync) {
            durable = writes.size();
        }
    }

    /** The write failed because the process died under it: it may or may not survive. */
    void inFlight(Write write) {
        writes.add(write);
        lastInFlight = true;
    }

    /** A flush or checkpoint returned: every write acknowledged before it is durable. */
    void allAcknowledgedAreDurable() {
        durable = acknowledgedCount();
    }

    void died(Death death) {
        powerLost |= death != Death.PROCESS_CRASH;
    }

    /**
     * How many writes must have survived: the fsynced ones; if only kills ({@code kill -9}) happened since the last
     * reopen, every acknowledged one, since the OS kept it (a power cut inside a later open takes that back).
     */
    int mustSurvive() {
        return powerLost ? durable : acknowledgedCount();
    }

    int acknowledgedCount() {
        return writes.size() - (lastInFlight ? 1 : 0);
    }

    /** Every key written since the last reopen. */
    Iterable<byte[]> touchedKeys() {
        TreeSet<byte[]> keys = new TreeSet<>(Arrays::compareUnsigned);
        for (Write w : writes) {
            keys.addAll(w.changes.keySet());
        }
        return keys;
    }

    /**
     * The k from {@link #mustSurvive()} to the number of writes for which base + the first k writes equals
     * {@code recovered}, or -1. Walks the candidates once, keeping the set of keys on which the candidate and the
     * recovered state differ.
     */
    int survivingPrefix(NavigableMap<byte[], byte[]> recovered) {
        int floor = mustSurvive();
        NavigableMap<byte[], byte[]> candidate = new TreeMap<>(base);
        for (int i = 0; i < floor; i++) {
            writes.get(i).applyTo(candidate);
        }
        TreeSet<byte[]> differing = new TreeSet<>(Arrays::compareUnsigned);
        for (byte[] key : candidate.keySet()) {
            updateDifference(differing, key, candidate, recovered);
        }
        for (byte[] key : recovered.keySet()) {
            updateDifference(differing, key, candidate, recovered);
        }
        for (int k = floor; ; k++) {
            if (differing.isEmpty()) {
                return k;
            }
            if (k == writes.size()) {
                return -1;
            }
            Write w = writes.get(k);
            w.applyTo(candidate);
            for (byte[] key : w.changes.keySet()) {
                updateDifference(differing, key, candidate, recovered);
            }
        }
    }

    private static void updateDifference(TreeSet<byte[]> differing, byte[] key, Map<byte[], byte[]> candidate,
                                         Map<byte[], byte[]> recovered) {
        if (Arrays.equals(candidate.get(key), recovered.get(key))) {
            differing.remove(key);
        } else {
            differing.add(key);
        }
    }

    /** For a failure: the writes around the floor, and the candidate prefix closest to what was recovered. */
    String explain(NavigableMap<byte[], byte[]> recovered) {
        int floor = mustSurvive();
        NavigableMap<byte[], byte[]> candidate = new TreeMap<>(base);
        int bestK = -1;
        List<String> bestDiff = null;
        for (int k = 0; k <= writes.size(); k++) {
            if (k > 0) {
                writes.get(k - 1).applyTo(candidate);
            }
            List<String> diff = new ArrayList<>();
            TreeSet<byte[]> keys = new TreeSet<>(Arrays::compareUnsigned);
            keys.addAll(candidate.keySet());
            keys.addAll(recovered.keySet());
            for (byte[] key : keys) {
                byte[] want = candidate.get(key);
                byte[] got = recovered.get(key);
                if (!Arrays.equals(want, got)) {
                    diff.add(new String(key) + ": expected " + describe(want) + ", recovered " + describe(got));
                }
            }
            if (bestDiff == null || diff.size() <= bestDiff.size()) {
                bestK = k;
                bestDiff = diff;
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(writes.size()).append(" writes since the last reopen (the first ").append(floor)
                .append(powerLost ? " durable" : " acknowledged, and only kills since")
                .append(lastInFlight ? "; the last one in flight" : "")
                .append("); S = SYNC, A = ASYNC, | before write ").append(floor).append("; from write ");
        // Only the writes around the floor and the closest prefix: a long round would drown the message.
        int from = Math.max(0, Math.min(floor, bestK) - 10);
        int to = Math.min(writes.size(), from + 80);
        out.append(from).append(':');
        for (int i = from; i < to; i++) {
            Write w = writes.get(i);
            out.append(i == floor ? " |" : "").append(' ').append(w.sync ? "S" : "A").append('{');
            w.changes.forEach((k, v) -> out.append(new String(k)).append(v == null ? "-" : "+").append(','));
            out.append('}');
        }
        out.append(to < writes.size() ? " ..." : "");
        out.append("\nclosest prefix: k=").append(bestK).append(", differing on ").append(bestDiff);
        return out.toString();
    }

    private static String describe(byte[] v) {
        return v == null ? "absent" : v.length + " bytes #" + Integer.toHexString(Arrays.hashCode(v));
    }

    /** After a verified reopen: what survived is the new base, and nothing is pending. */
    void rebase(NavigableMap<byte[], byte[]> recovered) {
        base = recovered;
        current = new TreeMap<>(recovered);
        writes.clear();
        durable = 0;
        powerLost = false;
        lastInFlight = false;
    }
}
