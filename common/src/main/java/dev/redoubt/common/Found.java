package dev.redoubt.common;

/**
 * The newest version of a key at a snapshot, as found by a point lookup in one memtable or table.
 *
 * @param kind     {@link EntryKind#DELETE} means the key is deleted as of this version: stop looking
 * @param sequence the version's sequence number
 * @param value    the value of a PUT; empty for a DELETE
 */
public record Found(EntryKind kind, long sequence, byte[] value) {
}
