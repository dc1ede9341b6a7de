package dev.redoubt.testsupport.linearizability;

/** What a client asked of one key's register. */
public enum OpKind {
    /** Sets the register to a value. */
    PUT,
    /** Reads the register; the value read is part of the outcome. */
    GET,
    /** Clears the register (a later GET reads "absent"). */
    DELETE
}
