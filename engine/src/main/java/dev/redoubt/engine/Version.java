package dev.redoubt.engine;

import dev.redoubt.common.KeyOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An immutable set of live tables by level. Level 0 tables may overlap and are ordered newest first (by max
 * sequence); the tables of each deeper level do not overlap and are ordered by key. Thread-safe (immutable).
 */
final class Version {
    private static final Comparator<FileMeta> NEWEST_FIRST =
            Comparator.comparingLong(FileMeta::maxSequence).reversed().thenComparing(Comparator.comparingLong(FileMeta::number).reversed());
    private static final Comparator<FileMeta> BY_KEY = (a, b) -> KeyOrder.compareKeys(a.smallestKey(), b.smallestKey());

    private final List<List<FileMeta>> levels;

    Version(int maxLevels) {
        List<List<FileMeta>> empty = new ArrayList<>();
        for (int i = 0; i < maxLevels; i++) {
            empty.add(List.of());
        }
        this.levels = List.copyOf(empty);
    }

    private Version(List<List<FileMeta>> levels) {
        this.levels = levels;
    }

    int levelCount() {
        return levels.size();
    }

    List<FileMeta> files(int level) {
        return levels.get(level);
    }

    long levelBytes(int level) {
        long total = 0;
        for (FileMeta f : levels.get(level)) {
            total += f.bytes();
        }
        return total;
    }

    Set<Long> fileNumbers() {
        Set<Long> numbers = new HashSet<>();
        for (List<FileMeta> level : levels) {
            for (FileMeta f : level) {
                numbers.add(f.number());
            }
        }
        return numbers;
    }

    /** The version after {@code edit}; checks that removed files exist and deeper levels do not overlap. */
    Version apply(VersionEdit edit) {
        List<List<FileMeta>> next = new ArrayList<>();
        for (List<FileMeta> level : levels) {
            next.add(new ArrayList<>(level));
        }
        for (VersionEdit.Removed r : edit.removed) {
            boolean removed = next.get(r.level()).removeIf(f -> f.number() == r.number());
            if (!removed) {
                throw new IllegalStateException("version edit removes table " + r.number() + " not at level " + r.level());
            }
        }
        for (VersionEdit.Added a : edit.added) {
            next.get(a.level()).add(a.file());
        }
        for (int level = 0; level < next.size(); level++) {
            List<FileMeta> files = next.get(level);
            files.sort(level == 0 ? NEWEST_FIRST : BY_KEY);
            if (level > 0) {
                for (int i = 1; i < files.size(); i++) {
                    if (KeyOrder.compareKeys(files.get(i - 1).largestKey(), files.get(i).smallestKey()) >= 0) {
                        throw new IllegalStateException("level " + level + " tables " + files.get(i - 1).number()
                                + " and " + files.get(i).number() + " overlap");
                    }
                }
            }
            next.set(level, List.copyOf(files));
        }
        return new Version(List.copyOf(next));
    }

    /** The table of level {@code level >= 1} whose range holds {@code key}, or null. */
    FileMeta findInLevel(int level, byte[] key) {
        List<FileMeta> files = levels.get(level);
        int lo = 0;
        int hi = files.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            FileMeta f = files.get(mid);
            if (KeyOrder.compareKeys(f.largestKey(), key) < 0) {
                lo = mid + 1;
            } else if (KeyOrder.compareKeys(f.smallestKey(), key) > 0) {
                hi = mid - 1;
            } else {
                return f;
            }
        }
        return null;
    }

    /** A snapshot edit that recreates this version from nothing (the first record of a new manifest). */
    VersionEdit asEdit() {
        VersionEdit edit = new VersionEdit();
        for (int level = 0; level < levels.size(); level++) {
            for (FileMeta f : levels.get(level)) {
                edit.addFile(level, f);
            }
        }
        return edit;
    }
}
