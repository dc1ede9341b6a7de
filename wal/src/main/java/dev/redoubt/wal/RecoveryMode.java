package dev.redoubt.wal;

/**
 * What opening a log may drop when it finds damage. Every mode copies the bytes it drops to
 * {@code <dir>/lost/} and lists them in the {@link RecoveryReport}; none deletes data silently.
 *
 * <p>Terms: <em>damage</em> is a record whose checksum, length, type or LSN is wrong, or a missing
 * segment. It is <em>proven durable</em> when a valid record after it carries a durable LSN above it
 * (the writer had fsynced those bytes, so they were acknowledged to a {@code SYNC} caller), or when it lies
 * below {@link WalOptions#knownDurableLsn} (the caller knew the log durable that far; then zeros, stale bytes or
 * a missing end are damage too). The <em>tail</em> is everything from the first damage to the end of the log.
 */
public enum RecoveryMode {
    /**
     * The default. Drops a damaged tail that no later record proves durable: a write torn by a crash or a
     * power cut, which was never acknowledged as durable. Refuses to open (error code CORRUPTION, naming
     * segment, offset and LSN) when the damage is proven durable, because that is loss of acknowledged data.
     */
    TOLERATE_CORRUPTED_TAIL,
    /** Drops nothing: any damage, a torn tail included, refuses to open. A zero-filled or stale end is not damage. */
    ABSOLUTE_CONSISTENCY,
    /**
     * Keeps the log up to the first damage and drops everything after it, valid records included. Never
     * refuses; the report flags the drop as acknowledged loss when it was proven durable.
     */
    POINT_IN_TIME,
    /**
     * Skips each damaged range and keeps every valid record after it (the skipped range is overwritten
     * with padding so the log reads clean afterwards). Never refuses; acknowledged loss is flagged. A missing
     * segment cannot be skipped: the log ends before it, as in {@link #POINT_IN_TIME}.
     */
    SKIP_CORRUPTED
}
