/**
 * Immutable sorted tables: {@link dev.redoubt.sstable.SstWriter} writes one, {@link dev.redoubt.sstable.SstReader}
 * reads, iterates and verifies it through a shared {@link dev.redoubt.sstable.BlockCache}, and
 * {@link dev.redoubt.sstable.MergingIterator} merges tables and memtables in internal order. The file format is
 * specified byte by byte in {@link dev.redoubt.sstable.SstDescriptor}; the reasons are in
 * {@code docs/formats/sstable.md}.
 */
package dev.redoubt.sstable;
