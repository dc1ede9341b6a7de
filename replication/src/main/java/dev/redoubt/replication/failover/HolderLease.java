package dev.redoubt.replication.failover;

/**
 * The holder's side of the lease (docs/pair-failover.md): whether it may accept writes now. Each renewal's
 * send time is noted before it is proposed; once it committed, the lease runs to
 * {@link LeaseClock#holderValidUntil} of that send time (never shortened by an older renewal committing late).
 * A refused renewal (another node took over) ends the lease at once, for good.
 *
 * <p>Thread-safe: the agent renews, the write path asks {@link #mayAcceptWrites}.
 */
public final class HolderLease {
    private final LeaseClock clock;
    private long validUntilNanos;
    private boolean valid;
    private boolean deposed;

    public HolderLease(LeaseClock clock) {
        this.clock = clock;
    }

    /** A renewal sent at {@code sentNanos} committed and was accepted. */
    public synchronized void renewed(long sentNanos) {
        if (deposed) {
            return;
        }
        long until = clock.holderValidUntil(sentNanos);
        if (!valid || until - validUntilNanos > 0) {
            validUntilNanos = until;
            valid = true;
        }
    }

    /** A renewal was refused: the record names another holder or epoch. The lease never comes back. */
    public synchronized void deposed() {
        deposed = true;
        valid = false;
    }

    public synchronized boolean mayAcceptWrites(long nowNanos) {
        return valid && !deposed && nowNanos - validUntilNanos < 0;
    }

    /** How long from {@code nowNanos} it may still accept writes, in milliseconds; 0 when it may not. */
    public synchronized long validForMillis(long nowNanos) {
        return mayAcceptWrites(nowNanos) ? java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(validUntilNanos - nowNanos) : 0;
    }

    public synchronized boolean isDeposed() {
        return deposed;
    }
}
