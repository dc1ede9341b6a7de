package dev.redoubt.wal;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The appenders of a {@link LogWriter} parked until their record is written or fsynced: a fixed table of slots,
 * each a thread and what it waits for. The group-commit leader {@link #wake}s those it satisfied, and one that
 * it did not, to lead the next group.
 *
 * <p>No wake-up is lost: a waiter registers in a slot <em>before</em> it checks, one last time, whether it must
 * still park, and parks only while a leader holds the write lock, whose release is followed by a
 * {@link #wake}. The park has a timeout ({@link #PARK_NANOS}) only as a safety net. With every slot taken (more
 * than {@link #MAX_WAITERS} waiters) a waiter parks unregistered and relies on that timeout.
 *
 * <p>Thread-safety: any thread may park; any thread may wake.
 */
final class CommitWaiters {
    static final int MAX_WAITERS = 128;
    /** Waiters are unparked by the leader; the timeout is only a safety net against a missed wake-up. */
    static final long PARK_NANOS = 1_000_000L;

    /** What the waiters need to know of the log. */
    interface LogProgress {
        /** Whether the record at {@code lsn} is written ({@code durable} false) or fsynced (true). */
        boolean reached(long lsn, boolean durable);

        /** Whether the log failed: every waiter then wakes to fail. */
        boolean failed();

        /** Whether a leader holds the write lock now (and so will wake the waiters when it lets go). */
        boolean leading();
    }

    private final LogProgress log;
    private final AtomicReferenceArray<Thread> waiters = new AtomicReferenceArray<>(MAX_WAITERS);
    /** What each parked waiter waits for: {@code lsn << 1 | (durable ? 1 : 0)}; set before its thread is. */
    private final AtomicLongArray targets = new AtomicLongArray(MAX_WAITERS);

    CommitWaiters(LogProgress log) {
        this.log = log;
    }

    /** Parks the calling thread until woken (or the safety timeout), unless its record got there meanwhile. */
    void parkUntilWoken(long lsn, boolean durable) {
        Thread me = Thread.currentThread();
        int slot = -1;
        long target = lsn << 1 | (durable ? 1 : 0);
        for (int i = (int) (me.getId() % MAX_WAITERS), n = 0; n < MAX_WAITERS; i = (i + 1) % MAX_WAITERS, n++) {
            if (waiters.get(i) == null) {
                targets.set(i, target);
                if (waiters.compareAndSet(i, null, me)) {
                    slot = i;
                    break;
                }
            }
        }
        try {
            // Registered before this check, so a leader that unlocks after it will see us and unpark us.
            if (!log.reached(lsn, durable) && !log.failed() && log.leading()) {
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        } finally {
            if (slot >= 0) {
                waiters.set(slot, null);
            }
        }
    }

    /**
     * Unparks every waiter whose record is now written or durable as it asked, and one waiter whose record is
     * not, to lead the next group. Waking the others would only cost them a context switch and a re-park.
     */
    void wake() {
        Thread nextLeader = null;
        boolean failed = log.failed();
        for (int i = 0; i < MAX_WAITERS; i++) {
            Thread t = waiters.get(i);
            if (t == null) {
                continue;
            }
            long target = targets.get(i);
            if (failed || log.reached(target >>> 1, (target & 1) != 0)) {
                LockSupport.unpark(t);
            } else if (nextLeader == null) {
                nextLeader = t;
            }
        }
        if (nextLeader != null) {
            LockSupport.unpark(nextLeader);
        }
    }
}
