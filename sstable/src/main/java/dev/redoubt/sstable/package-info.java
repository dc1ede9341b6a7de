/** Immutable sorted tables: writer, reader, blocks, filters, compaction merge. Built by issue 3; empty until then. */
package dev.redoubt.sstable;
