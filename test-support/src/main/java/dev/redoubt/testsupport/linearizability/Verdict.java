package dev.redoubt.testsupport.linearizability;

/** What the checker concluded about a history, or about one key of it. */
public enum Verdict {
    /** Some order of the operations is legal for a register and respects real time. */
    LINEARIZABLE,
    /** No such order exists: the report names the operations that could not be placed. */
    NOT_LINEARIZABLE,
    /** Unknown (budget exhausted): the search gave up after its step budget, having found neither. */
    UNKNOWN
}
