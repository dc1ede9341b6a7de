package dev.redoubt.replication.failover;

import java.util.concurrent.TimeUnit;

/**
 * The lease arithmetic of docs/pair-failover.md, on one process's monotonic clock ({@code System.nanoTime}
 * readings passed in, so tests drive it): how long a holder may accept writes after a renewal it sent, and how
 * long a standby must see a renewal unchanged before it may propose a takeover. Nothing here compares readings
 * of two machines' clocks.
 *
 * <ul>
 *   <li>Holder: a renewal sent at {@code s} that then committed lets it accept writes until
 *       {@code s + lease × (1 − drift) − margin}.</li>
 *   <li>Standby: a renewal index first seen at {@code f} and not changed since allows a takeover from
 *       {@code f + lease × (1 + drift) + margin}.</li>
 * </ul>
 * With every clock advancing at a rate within {@code drift} of the others', the standby's earliest takeover comes
 * after the end of the holder's lease: {@code f} is after {@code s} in real time, the standby waits more than a
 * lease of real time and the holder's lease lasts less than one.
 *
 * @param leaseMillis  the lease the record names
 * @param drift        the bound on clock rate differences (0.1: 10%)
 * @param marginMillis for scheduling and pauses (GC), on both sides
 */
public record LeaseClock(int leaseMillis, double drift, long marginMillis) {
    public static final double DEFAULT_DRIFT = 0.1;
    public static final long DEFAULT_MARGIN_MILLIS = 500;

    public LeaseClock {
        if (drift < 0 || drift >= 0.5) {
            throw new IllegalArgumentException("clock drift bound " + drift + " outside [0, 0.5)");
        }
        if (marginMillis < 0 || leaseMillis * (1 - drift) - marginMillis <= 0) {
            throw new IllegalArgumentException("a lease of " + leaseMillis + " ms leaves nothing after the drift bound "
                    + drift + " and the margin of " + marginMillis + " ms");
        }
    }

    public static LeaseClock of(int leaseMillis) {
        return new LeaseClock(leaseMillis, DEFAULT_DRIFT, DEFAULT_MARGIN_MILLIS);
    }

    /** Until when (nanoTime) a holder may accept writes after a committed renewal it sent at {@code sentNanos}. */
    public long holderValidUntil(long sentNanos) {
        return sentNanos + TimeUnit.MILLISECONDS.toNanos((long) (leaseMillis * (1 - drift)) - marginMillis);
    }

    /** From when (nanoTime) a standby may propose a takeover of a renewal it first saw at {@code firstSeenNanos}. */
    public long standbyMayTakeOverFrom(long firstSeenNanos) {
        return firstSeenNanos + TimeUnit.MILLISECONDS.toNanos((long) Math.ceil(leaseMillis * (1 + drift)) + marginMillis);
    }
}
