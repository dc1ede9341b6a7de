package dev.redoubt.testsupport.linearizability;

import java.util.List;

/**
 * The verdict on one key.
 *
 * @param key                   the key
 * @param verdict               linearizable, not, or unknown (budget exhausted)
 * @param operationsChecked     the operations the search had to place
 * @param operationsDropped     FAIL operations, INFO reads and unobserved INFO writes (see {@code KeyHistory})
 * @param steps                 events the search visited
 * @param longestPrefix         a longest linearizable prefix the search found, in linearization order (every checked
 *                              operation when linearizable)
 * @param unplaced              when not linearizable: the operations one of which had to come next after
 *                              {@code longestPrefix} and none of which could; otherwise empty
 * @param explanation           a multi-line report with times; empty when linearizable
 */
public record KeyResult(String key, Verdict verdict, int operationsChecked, int operationsDropped, long steps,
                        List<Operation> longestPrefix, List<Operation> unplaced, String explanation) {

    public KeyResult {
        longestPrefix = List.copyOf(longestPrefix);
        unplaced = List.copyOf(unplaced);
    }
}
