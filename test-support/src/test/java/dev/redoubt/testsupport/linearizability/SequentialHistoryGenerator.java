package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random histories that are linearizable by construction: clients run operations one at a time on random keys with
 * random, overlapping intervals; each operation that takes effect does so at a random instant inside its interval
 * (its linearization point), and reads return what a real register holds at that instant. Writes have unique values.
 * Some operations FAIL (no effect) or time out (INFO: a write takes effect at some instant after its invocation,
 * possibly after everything else, or never; the client then carries on under a new process id, as in Jepsen).
 */
final class SequentialHistoryGenerator {
    static final int CLIENTS = 5;
    static final long GAP_NANOS_MAX = 20;
    static final long HALF_DURATION_NANOS_MAX = 100;
    static final long TIMEOUT_NANOS = 250;

    private SequentialHistoryGenerator() {
    }

    private static final class Spec {
        int process;
        String key;
        OpKind kind;
        String value;
        long invoke;
        long complete;
        long effectAt;
        Outcome outcome;
        boolean takesEffect;
    }

    static History generate(Random random, int keyCount, int opsPerKey) {
        long[] freeAt = new long[CLIENTS];
        int[] processOf = new int[CLIENTS];
        for (int c = 0; c < CLIENTS; c++) {
            processOf[c] = c;
        }
        int nextProcess = CLIENTS;
        int nextValue = 0;
        List<Spec> specs = new ArrayList<>();
        for (int i = 0; i < keyCount * opsPerKey; i++) {
            int client = random.nextInt(CLIENTS);
            Spec s = new Spec();
            s.process = processOf[client];
            s.key = "k" + random.nextInt(keyCount);
            int kind = random.nextInt(100);
            s.kind = kind < 45 ? OpKind.PUT : kind < 90 ? OpKind.GET : OpKind.DELETE;
            s.value = s.kind == OpKind.PUT ? "v" + nextValue++ : null;
            s.invoke = freeAt[client] + random.nextLong(GAP_NANOS_MAX + 1);
            s.effectAt = s.invoke + random.nextLong(HALF_DURATION_NANOS_MAX + 1);
            s.complete = s.effectAt + random.nextLong(HALF_DURATION_NANOS_MAX + 1);
            int outcome = random.nextInt(100);
            if (outcome < 5) {
                s.outcome = Outcome.FAIL;
            } else if (outcome < 15) {
                s.outcome = Outcome.INFO;
                s.takesEffect = s.kind != OpKind.GET && random.nextBoolean();
                s.effectAt = s.invoke + random.nextLong(4 * TIMEOUT_NANOS);
                s.complete = Operation.COMPLETION_UNKNOWN;
                processOf[client] = nextProcess++;
            } else {
                s.outcome = Outcome.OK;
                s.takesEffect = true;
            }
            freeAt[client] = s.outcome == Outcome.INFO ? s.invoke + TIMEOUT_NANOS : s.complete;
            specs.add(s);
        }
        runInEffectOrder(specs);
        History.Builder builder = History.builder();
        for (Spec s : specs) {
            builder.add(s.process, s.key, s.kind, s.value, s.invoke, s.complete, s.outcome);
        }
        return builder.build();
    }

    /** The real sequential execution: sets the value each OK read returns. */
    private static void runInEffectOrder(List<Spec> specs) {
        List<Spec> effects = new ArrayList<>();
        for (Spec s : specs) {
            if (s.takesEffect) {
                effects.add(s);
            }
        }
        // Stable sort: operations whose intervals touch may share an instant; any order among them is legal.
        effects.sort(Comparator.comparingLong(s -> s.effectAt));
        Map<String, String> register = new HashMap<>();
        for (Spec s : effects) {
            switch (s.kind) {
                case PUT -> register.put(s.key, s.value);
                case DELETE -> register.remove(s.key);
                case GET -> s.value = register.get(s.key);
            }
        }
    }
}
