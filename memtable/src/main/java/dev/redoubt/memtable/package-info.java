/**
 * The sorted in-memory write buffer, MVCC by sequence (WAL LSN + op index): {@link dev.redoubt.memtable.Memtable}.
 * A skip list whose nodes, each with its key and value, live off-heap in an arena of direct chunks, in
 * {@link dev.redoubt.common.KeyOrder} internal order; nothing per entry is a Java object.
 */
package dev.redoubt.memtable;
