package dev.redoubt.engine;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.KeyOrder;
import dev.redoubt.sstable.MergingIterator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Leveled compaction (LevelDB's): level 0 tables may overlap and are compacted together into level 1 once
 * there are {@link DbOptions#level0CompactionTrigger()} of them; a deeper level over its size target (level 1
 * max, times the size ratio per level) compacts one table, chosen round-robin through the key space, with the
 * tables it overlaps one level down. Outputs are cut at the target file size, never inside a key's versions.
 *
 * <p>What it drops: a version hidden by a newer version of the same key that every snapshot can see, and a
 * tombstone that every snapshot can see when no deeper level holds the key (the bottom for that key).
 * Nothing a live snapshot can read is dropped.
 *
 * <p>Runs on the background worker only; not thread-safe.
 */
final class Compactor {
    private final BackgroundHost engine;
    /** The compaction thread's buffer for the value being rewritten. */
    private byte[] valueBuffer = new byte[4096];
    private final DbOptions options;
    private final byte[][] compactPointer;

    /** The inputs of one compaction. */
    private record Pick(int level, List<FileMeta> inputs, List<FileMeta> next) {
    }

    Compactor(BackgroundHost engine, DbOptions options) {
        this.engine = engine;
        this.options = options;
        this.compactPointer = new byte[options.maxLevels()][];
    }

    /** Runs one compaction if any level needs one; false if none does. */
    boolean compactOnce() throws IOException {
        Version v = engine.versions().current();
        Pick pick = pick(v);
        if (pick == null) {
            return false;
        }
        run(v, pick);
        return true;
    }

    long maxBytes(int level) {
        long bytes = options.level1MaxBytes();
        for (int i = 1; i < level; i++) {
            bytes *= options.levelSizeRatio();
        }
        return bytes;
    }

    private Pick pick(Version v) {
        if (v.files(0).size() >= options.level0CompactionTrigger()) {
            List<FileMeta> inputs = v.files(0);
            byte[] smallest = null;
            byte[] largest = null;
            for (FileMeta f : inputs) {
                smallest = smallest == null || KeyOrder.compareKeys(f.smallestKey(), smallest) < 0 ? f.smallestKey() : smallest;
                largest = largest == null || KeyOrder.compareKeys(f.largestKey(), largest) > 0 ? f.largestKey() : largest;
            }
            return new Pick(0, inputs, overlapping(v, 1, smallest, largest));
        }
        for (int level = 1; level < v.levelCount() - 1; level++) {
            if (v.levelBytes(level) > maxBytes(level)) {
                FileMeta chosen = null;
                for (FileMeta f : v.files(level)) {
                    if (compactPointer[level] == null || KeyOrder.compareKeys(f.smallestKey(), compactPointer[level]) > 0) {
                        chosen = f;
                        break;
                    }
                }
                if (chosen == null) {
                    chosen = v.files(level).get(0);
                }
                compactPointer[level] = chosen.largestKey();
                return new Pick(level, List.of(chosen), overlapping(v, level + 1, chosen.smallestKey(), chosen.largestKey()));
            }
        }
        return null;
    }

    private static List<FileMeta> overlapping(Version v, int level, byte[] smallest, byte[] largest) {
        List<FileMeta> result = new ArrayList<>();
        for (FileMeta f : v.files(level)) {
            if (f.overlaps(smallest, largest)) {
                result.add(f);
            }
        }
        return result;
    }

    private void run(Version v, Pick pick) throws IOException {
        int outputLevel = pick.level + 1;
        VersionEdit edit = new VersionEdit();
        if (pick.level > 0 && pick.next.isEmpty()) {
            // Trivial move: nothing to merge with one level down.
            FileMeta f = pick.inputs.get(0);
            edit.removeFile(pick.level, f.number()).addFile(outputLevel, f);
            engine.versions().logAndApply(edit);
            engine.compactionCompleted(0, 0);
            engine.versionChanged();
            return;
        }
        List<EntryIterator> sources = new ArrayList<>();
        long bytesIn = 0;
        for (FileMeta f : pick.inputs) {
            sources.add(engine.tables().reader(f.number()).iterator());
            edit.removeFile(pick.level, f.number());
            bytesIn += f.bytes();
        }
        for (FileMeta f : pick.next) {
            sources.add(engine.tables().reader(f.number()).iterator());
            edit.removeFile(outputLevel, f.number());
            bytesIn += f.bytes();
        }
        long smallestSnapshot = engine.oldestSnapshot();
        TableFiles out = engine.newTableFiles();
        List<FileMeta> outputs = new ArrayList<>();
        try (EntryIterator it = new MergingIterator(sources)) {
            byte[] currentKey = null;
            long lastSequenceForKey = Long.MAX_VALUE;
            for (it.seekToFirst(); it.valid(); it.next()) {
                byte[] key = it.key();
                if (currentKey == null || !Arrays.equals(key, currentKey)) {
                    if (out.isOpen() && out.bytesAdded() >= options.targetFileBytes()) {
                        outputs.add(out.finish());
                    }
                    currentKey = key.clone();
                    lastSequenceForKey = Long.MAX_VALUE;
                }
                long sequence = it.sequence();
                boolean hidden = lastSequenceForKey <= smallestSnapshot;
                boolean obsoleteTombstone = it.kind() == EntryKind.DELETE && sequence <= smallestSnapshot
                        && isBottomFor(v, outputLevel, key);
                lastSequenceForKey = sequence;
                if (!hidden && !obsoleteTombstone) {
                    // The value goes through one reused buffer: no array per entry (at 1 KiB values, compaction's
                    // copies were most of the heap a load allocated).
                    int n = it.valueLength();
                    if (valueBuffer.length < n) {
                        valueBuffer = new byte[Math.max(n, 2 * valueBuffer.length)];
                    }
                    it.copyValue(valueBuffer, 0);
                    out.add(key, sequence, it.kind(), valueBuffer, 0, n);
                }
            }
            if (out.isOpen()) {
                outputs.add(out.finish());
            }
            long bytesOut = 0;
            for (FileMeta f : outputs) {
                edit.addFile(outputLevel, f);
                bytesOut += f.bytes();
            }
            engine.versions().logAndApply(edit);
            engine.compactionCompleted(bytesIn, bytesOut);
        } catch (IOException | RuntimeException e) {
            out.abandon();
            throw e;
        } finally {
            for (FileMeta f : outputs) {
                engine.releaseOutput(f.number());
            }
        }
        engine.versionChanged();
    }

    /** No level below {@code outputLevel} holds {@code key}: a tombstone there hides nothing. */
    private static boolean isBottomFor(Version v, int outputLevel, byte[] key) {
        for (int level = outputLevel + 1; level < v.levelCount(); level++) {
            if (v.findInLevel(level, key) != null) {
                return false;
            }
        }
        return true;
    }
}
