package dev.redoubt.engine;

import dev.redoubt.memtable.Memtable;

/** A memtable waiting for flush, and the LSN below which it holds every change (its flush's checkpoint). */
record ImmutableMemtable(Memtable memtable, long checkpointLsn) {
}
