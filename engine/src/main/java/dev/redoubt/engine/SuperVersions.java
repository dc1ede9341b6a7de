package dev.redoubt.engine;

import dev.redoubt.memtable.Memtable;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The published {@link SuperVersion} and every one a reader still holds. Readers {@link #acquire} the current
 * view and {@link #release} it; the engine {@link #install}s a new one whenever its memtables or its table
 * version change. When the last reference to a view goes, whatever it named that no live view still names is
 * closed (memtables) or deleted (tables), so a reader never loses a memtable or a table under it.
 *
 * <p>Locking: {@link #install} and the cleanup run under the engine's state lock (both assert it), so no view
 * is being installed while the cleanup decides what nobody uses any more. {@link #acquire} takes no lock, and
 * {@link #release} only when it dropped a view's last reference.
 */
final class SuperVersions {
    /** What the cleanup needs of the engine beyond the views. */
    interface Owner {
        /**
         * Tables that stay whatever the views name: the current version's and those being written.
         * REQUIRES the state lock.
         */
        Set<Long> tablesOutsideViews();

        /** Deletes a table no view and no writer needs any more. */
        void deleteTable(long number);
    }

    private final ReentrantLock stateLock;
    private final Owner owner;
    private volatile SuperVersion current;
    private final Set<SuperVersion> live = ConcurrentHashMap.newKeySet();

    SuperVersions(ReentrantLock stateLock, Owner owner) {
        this.stateLock = stateLock;
        this.owner = owner;
    }

    /** REQUIRES the state lock. Publishes {@code next} and drops the engine's reference to the previous view. */
    void install(SuperVersion next) {
        assert stateLock.isHeldByCurrentThread() : "REQUIRES stateLock";
        live.add(next);
        SuperVersion previous = current;
        current = next;
        if (previous != null) {
            release(previous);
        }
    }

    /** The current view, with a reference the caller must {@link #release}. */
    SuperVersion acquire() {
        while (true) {
            SuperVersion sv = current;
            if (sv.tryRef()) {
                return sv;
            }
        }
    }

    /** Drops a reference; the last one closes memtables and deletes tables no live view still needs. */
    void release(SuperVersion sv) {
        if (!sv.unref()) {
            return;
        }
        stateLock.lock();
        try {
            cleanUp(sv);
        } finally {
            stateLock.unlock();
        }
    }

    /** Every memtable a live view names (at close, to free them all). */
    Set<Memtable> liveMemtables() {
        Set<Memtable> memtables = new HashSet<>();
        for (SuperVersion sv : live) {
            memtables.add(sv.active);
            memtables.addAll(sv.immutables);
        }
        return memtables;
    }

    /** REQUIRES the state lock. Closes and deletes what {@code sv} held that no live view still holds. */
    private void cleanUp(SuperVersion sv) {
        assert stateLock.isHeldByCurrentThread() : "REQUIRES stateLock";
        live.remove(sv);
        Set<Memtable> memtablesInUse = new HashSet<>();
        Set<Long> tablesInUse = new HashSet<>(owner.tablesOutsideViews());
        for (SuperVersion other : live) {
            memtablesInUse.add(other.active);
            memtablesInUse.addAll(other.immutables);
            tablesInUse.addAll(other.version.fileNumbers());
        }
        if (!memtablesInUse.contains(sv.active)) {
            sv.active.close();
        }
        for (Memtable m : sv.immutables) {
            if (!memtablesInUse.contains(m)) {
                m.close();
            }
        }
        for (long number : sv.version.fileNumbers()) {
            if (!tablesInUse.contains(number)) {
                owner.deleteTable(number);
            }
        }
    }
}
