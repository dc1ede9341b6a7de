package dev.redoubt.sstable;

/**
 * Where a block lies in its file: the offset of its first stored byte and its stored size (the
 * {@link SstDescriptor#TRAILER_LENGTH}-byte trailer follows). Immutable.
 */
record BlockHandle(long offset, int size) {

    /** The offset just past this block's trailer, where the next block starts. */
    long end() {
        return offset + size + SstDescriptor.TRAILER_LENGTH;
    }

    @Override
    public String toString() {
        return "(offset " + offset + ", size " + size + ")";
    }
}
