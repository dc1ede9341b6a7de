/** Sorted in-memory write buffer, MVCC by LSN. Built by issue 3; empty until then. */
package dev.redoubt.memtable;
