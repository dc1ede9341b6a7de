package dev.redoubt.testsupport.linearizability;

/** How a client saw an operation end, in Jepsen's terms. */
public enum Outcome {
    /** It happened, exactly once, between its invocation and its completion; a GET carries the value it read. */
    OK,
    /** It definitely did not happen (the system said so before doing anything): the checker drops it. */
    FAIL,
    /**
     * Indeterminate (a timeout, a lost connection, a client that died): it may have happened at any moment after its
     * invocation, even after the test ended, or never. Its completion time is {@link Operation#COMPLETION_UNKNOWN}.
     */
    INFO
}
