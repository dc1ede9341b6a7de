package dev.redoubt.engine;

import dev.redoubt.common.CrashPoints;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.sstable.SstOptions;
import dev.redoubt.sstable.SstProperties;
import dev.redoubt.sstable.SstWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Writes one table the crash-safe way: {@code sst/<n>.sst.tmp}, fsynced by the writer, renamed to
 * {@code sst/<n>.sst}, directory fsynced. Until the manifest names it, a table is an orphan that the next open
 * deletes; so a crash anywhere here loses nothing (the WAL or the input tables still hold the data).
 * Not thread-safe: one output at a time per instance.
 */
final class TableFiles {
    private final StorageEnv env;
    private final Path dir;
    private final SstOptions sstOptions;
    private final LongSupplier newFileNumber;
    /** Numbers of tables being written: never deleted as obsolete while in progress. */
    private final Set<Long> pendingOutputs;

    private SstWriter writer;
    private long number;
    private long bytesAdded;

    TableFiles(StorageEnv env, Path dir, SstOptions sstOptions, LongSupplier newFileNumber, Set<Long> pendingOutputs) {
        this.env = env;
        this.dir = dir;
        this.sstOptions = sstOptions;
        this.newFileNumber = newFileNumber;
        this.pendingOutputs = pendingOutputs;
    }

    boolean isOpen() {
        return writer != null;
    }

    long bytesAdded() {
        return bytesAdded;
    }

    void add(byte[] key, long sequence, EntryKind kind, byte[] value) throws IOException {
        openIfNeeded().add(key, sequence, kind, value);
        bytesAdded += key.length + value.length + 16;
    }

    /** As above, the value {@code valueLength} bytes of {@code value} from {@code valueOffset} (a compaction's buffer). */
    void add(byte[] key, long sequence, EntryKind kind, byte[] value, int valueOffset, int valueLength)
            throws IOException {
        openIfNeeded().add(key, sequence, kind, value, valueOffset, valueLength);
        bytesAdded += key.length + valueLength + 16;
    }

    /** As above, the value a view of {@code valueLength} bytes of {@code value} (a memtable's arena, in a flush). */
    void add(byte[] key, long sequence, EntryKind kind, org.agrona.DirectBuffer value, int valueOffset,
             int valueLength) throws IOException {
        openIfNeeded().add(key, sequence, kind, value, valueOffset, valueLength);
        bytesAdded += key.length + valueLength + 16;
    }

    private SstWriter openIfNeeded() {
        if (writer == null) {
            number = newFileNumber.getAsLong();
            pendingOutputs.add(number);
            writer = new SstWriter(env, DbFiles.sstTempPath(dir, number), sstOptions);
            bytesAdded = 0;
        }
        return writer;
    }

    /** Finishes the open table and publishes it under its final name; returns its metadata. */
    FileMeta finish() throws IOException {
        SstProperties p = writer.finish();
        writer = null;
        CrashPoints.hit(CrashPoints.TABLE_WRITTEN);
        env.rename(DbFiles.sstTempPath(dir, number), DbFiles.sstPath(dir, number));
        CrashPoints.hit(CrashPoints.TABLE_RENAMED);
        env.syncDirectory(dir.resolve(DbFiles.SST_DIR));
        return new FileMeta(number, p.fileBytes(), p.smallestKey(), p.largestKey(), p.minSequence(), p.maxSequence(),
                p.entryCount());
    }

    /** Deletes a table that will not be used (after an error). */
    void abandon() {
        if (writer != null) {
            try {
                writer.abandon();
            } catch (Exception ignored) {
                // best effort: an orphan is deleted at the next open anyway
            }
            writer = null;
            pendingOutputs.remove(number);
        }
    }
}
