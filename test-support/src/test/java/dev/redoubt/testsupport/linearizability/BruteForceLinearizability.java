package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The definition, enumerated: a one-key history is linearizable when some subset of its INFO writes, with all its OK
 * operations, has an order that respects real time ({@code a} before {@code b} whenever
 * {@code a.completeNanos < b.invokeNanos}) and is legal for a register. Exponential: a test oracle for histories of
 * a handful of operations.
 */
final class BruteForceLinearizability {
    private BruteForceLinearizability() {
    }

    static boolean isLinearizable(List<Operation> keyOps) {
        List<Operation> required = new ArrayList<>();
        List<Operation> optional = new ArrayList<>();
        for (Operation op : keyOps) {
            if (op.outcome() == Outcome.OK) {
                required.add(op);
            } else if (op.outcome() == Outcome.INFO && op.isWrite()) {
                optional.add(op);
            }
        }
        for (int subset = 0; subset < 1 << optional.size(); subset++) {
            List<Operation> ops = new ArrayList<>(required);
            for (int i = 0; i < optional.size(); i++) {
                if ((subset & 1 << i) != 0) {
                    ops.add(optional.get(i));
                }
            }
            if (someOrderWorks(ops, new boolean[ops.size()], new ArrayList<>())) {
                return true;
            }
        }
        return false;
    }

    private static boolean someOrderWorks(List<Operation> ops, boolean[] used, List<Operation> order) {
        if (order.size() == ops.size()) {
            return isLegal(order);
        }
        for (int i = 0; i < ops.size(); i++) {
            if (used[i] || !mayComeNext(ops, used, ops.get(i))) {
                continue;
            }
            used[i] = true;
            order.add(ops.get(i));
            boolean works = someOrderWorks(ops, used, order);
            order.remove(order.size() - 1);
            used[i] = false;
            if (works) {
                return true;
            }
        }
        return false;
    }

    /** No operation still to be placed completed before {@code next} was invoked. */
    private static boolean mayComeNext(List<Operation> ops, boolean[] used, Operation next) {
        for (int j = 0; j < ops.size(); j++) {
            if (!used[j] && ops.get(j) != next && ops.get(j).completeNanos() < next.invokeNanos()) {
                return false;
            }
        }
        return true;
    }

    private static boolean isLegal(List<Operation> order) {
        String register = null;
        for (Operation op : order) {
            switch (op.kind()) {
                case PUT -> register = op.value();
                case DELETE -> register = null;
                case GET -> {
                    if (!Objects.equals(register, op.value())) {
                        return false;
                    }
                }
            }
        }
        return true;
    }
}
