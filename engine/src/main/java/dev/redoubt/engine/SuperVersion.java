package dev.redoubt.engine;

import dev.redoubt.memtable.Memtable;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a read sees (RocksDB's SuperVersion): the active memtable, the immutable ones waiting for flush (newest
 * first) and the table {@link Version}. Immutable; reference-counted so that memtables and tables it names stay
 * open until the last reader that acquired it releases it. The Db holds one reference on the current one.
 */
final class SuperVersion {
    final Memtable active;
    final List<Memtable> immutables;
    final Version version;
    private final AtomicInteger refs = new AtomicInteger(1);

    SuperVersion(Memtable active, List<Memtable> immutables, Version version) {
        this.active = active;
        this.immutables = List.copyOf(immutables);
        this.version = version;
    }

    /** Takes a reference unless the last one is already gone. */
    boolean tryRef() {
        while (true) {
            int n = refs.get();
            if (n == 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; true when it was the last. */
    boolean unref() {
        int n = refs.decrementAndGet();
        if (n < 0) {
            throw new IllegalStateException("SuperVersion released more often than acquired");
        }
        return n == 0;
    }

    boolean holds(Memtable m) {
        return active == m || immutables.contains(m);
    }
}
