package dev.redoubt.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A primary's view of its backups: the received, durable and applied LSNs each one acknowledged, and the wait
 * of writes for a remote commit level. A backup stays registered after it disconnects, so the primary keeps
 * the WAL it still needs (within the retention bound).
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
final class BackupProgress {
    /** One backup's acknowledged position. */
    static final class Backup {
        final String name;
        volatile String address;
        volatile boolean connected;
        volatile long received;
        volatile long durable;
        volatile long applied;
        volatile long lastAckMillis;
        /** When the backup last had everything the primary had durable (for lag in milliseconds). */
        volatile long caughtUpMillis;

        Backup(String name, long from) {
            this.name = name;
            this.received = from;
            this.durable = from;
            this.applied = from;
            this.caughtUpMillis = System.currentTimeMillis();
        }
    }

    private final Map<String, Backup> backups = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition advanced = lock.newCondition();

    /** Registers (or re-registers) a backup whose log ends at {@code from}. */
    Backup connect(String name, String address, long from) {
        Backup b = backups.computeIfAbsent(name, n -> new Backup(n, from));
        lock.lock();
        try {
            b.address = address;
            b.connected = true;
            b.received = from;
            b.durable = from;
            b.applied = from;
        } finally {
            lock.unlock();
        }
        return b;
    }

    void disconnect(Backup b) {
        lock.lock();
        try {
            b.connected = false;
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void acknowledge(Backup b, long received, long durable, long applied, long primaryDurable) {
        lock.lock();
        try {
            b.received = Math.max(b.received, received);
            b.durable = Math.max(b.durable, durable);
            b.applied = Math.max(b.applied, applied);
            long now = System.currentTimeMillis();
            b.lastAckMillis = now;
            if (b.applied >= primaryDurable) {
                b.caughtUpMillis = now;
            }
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The highest level any connected backup acknowledged for the record at {@code lsn}, or null. */
    WriteReceipt.Reached remoteLevel(long lsn) {
        WriteReceipt.Reached best = null;
        for (Backup b : backups.values()) {
            if (!b.connected) {
                continue;
            }
            WriteReceipt.Reached r = b.applied > lsn ? WriteReceipt.Reached.REMOTE_APPLIED
                    : b.durable > lsn ? WriteReceipt.Reached.REMOTE_DURABLE
                    : b.received > lsn ? WriteReceipt.Reached.REMOTE_RECEIVED : null;
            if (r != null && (best == null || r.compareTo(best) > 0)) {
                best = r;
            }
        }
        return best;
    }

    /**
     * Waits until a backup acknowledges the record at {@code lsn} at {@code wanted}, or the timeout passes;
     * returns the highest remote level reached (null for none).
     */
    WriteReceipt.Reached await(long lsn, WriteReceipt.Reached wanted, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        lock.lock();
        try {
            while (true) {
                WriteReceipt.Reached r = remoteLevel(lsn);
                long left = deadline - System.nanoTime();
                if ((r != null && r.compareTo(wanted) >= 0) || left <= 0) {
                    return r;
                }
                advanced.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
        } finally {
            lock.unlock();
        }
    }

    boolean anyConnected() {
        return backups.values().stream().anyMatch(b -> b.connected);
    }

    /** The lowest LSN a registered backup still needs (Long.MAX_VALUE with none). */
    long oldestNeeded() {
        long min = Long.MAX_VALUE;
        for (Backup b : backups.values()) {
            min = Math.min(min, b.durable);
        }
        return min;
    }

    List<Backup> all() {
        return new ArrayList<>(backups.values());
    }
}
