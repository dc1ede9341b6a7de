package dev.redoubt.testsupport;

import java.util.Map;
import java.util.TreeMap;

/**
 * The file names of one simulated directory, in two versions: the current entries (what a lookup
 * sees now) and the durable entries (as of the last directory sync, the only ones a power cut keeps).
 * Sub-directories are not entries: {@link SimulatedStorageEnv} keeps them durable from creation.
 *
 * <p>Not thread-safe: {@link SimulatedStorageEnv} calls it under its env-wide lock.
 */
final class Directory {

    final Map<String, Inode> current = new TreeMap<>();
    private Map<String, Inode> durable = new TreeMap<>();

    /** The directory fsync: every create, rename and delete of a name in here becomes durable. */
    void sync() {
        durable = new TreeMap<>(current);
    }

    /** The power cut: names not yet synced are forgotten, and every surviving file loses its unforced bytes. */
    void revertToDurable() {
        current.clear();
        current.putAll(durable);
        for (Inode inode : current.values()) {
            inode.revertToDurable();
        }
    }

    /** The power cut for names only: returns the surviving files, whose content the caller reverts. */
    java.util.Collection<Inode> revertNamesToDurable() {
        current.clear();
        current.putAll(durable);
        return current.values();
    }

    boolean isEmpty() {
        return current.isEmpty();
    }
}
