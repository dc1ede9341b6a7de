package dev.redoubt.engine;

/**
 * What the background workers ({@link BackgroundWork}, {@link Compactor}) may use of the engine: its manifest and
 * tables, a writer for new tables, and the callbacks that publish what they did. Nothing else of the engine's
 * state is theirs to read or change. {@link DbEngine} implements it.
 */
interface BackgroundHost {
    /** The manifest: the current version, file numbers, and {@link VersionSet#logAndApply} for edits. */
    VersionSet versions();

    /** Open table readers (compaction inputs). */
    TableCache tables();

    /**
     * A writer of new tables; each table's number stays reserved (so cleanup never deletes a table being
     * written) until {@link #releaseOutput} once the manifest names it or it was abandoned.
     */
    TableFiles newTableFiles();

    void releaseOutput(long tableNumber);

    /** The oldest sequence any reader may still ask for: compaction keeps what it can see. */
    long oldestSnapshot();

    /** The oldest memtable waiting for flush, or null. */
    ImmutableMemtable oldestImmutable();

    /** The flush of {@code done} is in the manifest: drop it, trim the log, wake waiters. */
    void flushCompleted(ImmutableMemtable done);

    /** A compaction's edit is in the manifest: publish the new version to readers. */
    void versionChanged();

    /** Counts a finished compaction, with the bytes it read and wrote (0 and 0 for a trivial move). */
    void compactionCompleted(long bytesIn, long bytesOut);

    /** A worker failed: the Db refuses writes from now on, saying why. */
    void backgroundFailed(Throwable e);

    /** Whether the Db is closing (workers stop taking new work). */
    boolean closing();
}
