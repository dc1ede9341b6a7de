package dev.redoubt.common;

/** What a versioned entry says about its key. The codes are on disk (WAL batches, SSTables): never renumber. */
public enum EntryKind {
    /** The key has this value. */
    PUT((byte) 1),
    /** The key is deleted (a tombstone); it hides older versions until compaction drops both at the bottom level. */
    DELETE((byte) 2);

    private final byte code;

    EntryKind(byte code) {
        this.code = code;
    }

    public byte code() {
        return code;
    }

    /** The kind with this code, or null if the code is unknown (corruption). */
    public static EntryKind fromCode(byte code) {
        return code == 1 ? PUT : code == 2 ? DELETE : null;
    }
}
