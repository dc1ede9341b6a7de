package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The sequential specification of one key: a register, initially absent; PUT sets it, DELETE clears it, GET must
 * return what it holds. Values are interned to small ints (by {@code equals}, so by content), making a state one
 * {@code int}: {@link #ABSENT} or a value id. Operations are local indexes of a {@link KeyHistory}.
 * Immutable after construction.
 */
final class RegisterModel {
    static final int ABSENT = 0;
    /** What {@link #step} returns when the operation cannot happen in that state. */
    static final int ILLEGAL = -1;

    private final List<String> valueOfState = new ArrayList<>();
    private final boolean[] isRead;
    /** For a write the state after it; for a read the state it requires. */
    private final int[] stateOfOp;

    RegisterModel(List<Operation> ops) {
        Map<String, Integer> stateOfValue = new HashMap<>();
        valueOfState.add(null);
        stateOfValue.put(null, ABSENT);
        isRead = new boolean[ops.size()];
        stateOfOp = new int[ops.size()];
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            isRead[i] = op.kind() == OpKind.GET;
            stateOfOp[i] = stateOfValue.computeIfAbsent(op.value(), v -> {
                valueOfState.add(v);
                return valueOfState.size() - 1;
            });
        }
    }

    /** The state after {@code op} runs in {@code state}, or {@link #ILLEGAL}. */
    int step(int state, int op) {
        if (!isRead[op]) {
            return stateOfOp[op];
        }
        return stateOfOp[op] == state ? state : ILLEGAL;
    }

    String valueOf(int state) {
        return valueOfState.get(state);
    }
}
