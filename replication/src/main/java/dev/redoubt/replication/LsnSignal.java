package dev.redoubt.replication;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/** Wakes the WAL senders when a write through the node may have made new log durable. */
final class LsnSignal {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;

    void signal() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the next {@link #signal()} or {@code millis}, whichever is first. */
    void await(long millis) throws InterruptedException {
        lock.lock();
        try {
            long seen = generation;
            long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
            while (generation == seen && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
