package dev.redoubt.wal;

import org.agrona.DirectBuffer;

/**
 * Receives every record (padding excluded) of a live log, in LSN order, from the thread that wrote it: after
 * the record was written, after the fsync that covers it when anyone in its group asked for durability, and
 * before any appender of it is acknowledged. The engine applies write batches to its memtable here, so the
 * memtable has one writer and sees batches in log order (LevelDB's leader applies its group the same way).
 *
 * <p>REQUIRES: return promptly; never append to the same log; never wait for an appender. An exception makes
 * the log fail (nothing is acknowledged after it). The payload is decompressed and valid only during the call.
 */
@FunctionalInterface
public interface RecordApplier {
    /**
     * @param lsn    the record's LSN
     * @param endLsn the LSN just past the record (where the next record or padding starts)
     */
    void apply(RecordType type, long lsn, long endLsn, DirectBuffer payload, int offset, int length);

    /** Applies nothing. */
    RecordApplier NONE = (type, lsn, endLsn, payload, offset, length) -> { };
}
