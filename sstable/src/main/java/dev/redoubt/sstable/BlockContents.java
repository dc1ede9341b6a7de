package dev.redoubt.sstable;

/**
 * The checked, decompressed contents of one block: {@code bytes[0, length)}. {@code compressed} says whether
 * the stored form was LZ4, in which case an offset within the contents is not a file offset. Immutable by
 * convention: nobody writes to {@code bytes} after the read.
 */
record BlockContents(byte[] bytes, int length, boolean compressed) {
}
