package dev.redoubt.testsupport.linearizability;

import java.util.List;

/**
 * The verdict on a whole history: not linearizable if any key is not, else unknown if any key is, else
 * linearizable. {@link #report()} (also {@link #toString()}) is what a failing test should print.
 */
public final class CheckResult {
    private final Verdict verdict;
    private final List<KeyResult> keys;

    CheckResult(List<KeyResult> keys) {
        this.keys = List.copyOf(keys);
        Verdict v = Verdict.LINEARIZABLE;
        for (KeyResult key : keys) {
            if (key.verdict() == Verdict.NOT_LINEARIZABLE) {
                v = Verdict.NOT_LINEARIZABLE;
            } else if (key.verdict() == Verdict.UNKNOWN && v == Verdict.LINEARIZABLE) {
                v = Verdict.UNKNOWN;
            }
        }
        this.verdict = v;
    }

    public Verdict verdict() {
        return verdict;
    }

    public boolean isLinearizable() {
        return verdict == Verdict.LINEARIZABLE;
    }

    /** One result per key of the history, keys sorted. */
    public List<KeyResult> keys() {
        return keys;
    }

    /** A summary line, then the explanation of every key that is not linearizable or unknown. */
    public String report() {
        int checked = 0;
        int dropped = 0;
        long steps = 0;
        int bad = 0;
        for (KeyResult key : keys) {
            checked += key.operationsChecked();
            dropped += key.operationsDropped();
            steps += key.steps();
            bad += key.verdict() == Verdict.LINEARIZABLE ? 0 : 1;
        }
        StringBuilder out = new StringBuilder().append(verdict).append(": ").append(keys.size()).append(" keys (")
                .append(bad).append(" not proven linearizable), ").append(checked).append(" operations checked, ")
                .append(dropped).append(" dropped, ").append(steps).append(" steps\n");
        for (KeyResult key : keys) {
            out.append(key.explanation());
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return report();
    }
}
