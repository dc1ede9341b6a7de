/**
 * The sorted in-memory write buffer, MVCC by sequence (WAL LSN + op index): {@link dev.redoubt.memtable.Memtable}.
 * Keys and values live off-heap in an arena of direct chunks; an on-heap skip list indexes them in
 * {@link dev.redoubt.common.KeyOrder} internal order.
 */
package dev.redoubt.memtable;
