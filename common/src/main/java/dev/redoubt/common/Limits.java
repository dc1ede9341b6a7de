package dev.redoubt.common;

/** Bounds on what the engine accepts, in one place; every decoder checks lengths against these. */
public final class Limits {
    /** Largest key: 32 KiB. Keys live in index blocks and memtable nodes, so they are kept modest. */
    public static final int MAX_KEY_BYTES = 32 * 1024;
    /** Largest value: 8 MiB (a write batch, with its keys, must fit in one WAL record). */
    public static final int MAX_VALUE_BYTES = 8 * 1024 * 1024;

    private Limits() {
    }
}
