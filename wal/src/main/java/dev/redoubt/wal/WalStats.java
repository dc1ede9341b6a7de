package dev.redoubt.wal;

/**
 * Counters of a {@link Wal}.
 *
 * @param writtenLsn     every byte below it has been written to the OS
 * @param durableLsn     every byte below it has been fsynced
 * @param recordsWritten records written since open (padding excluded)
 * @param writes         write calls issued (one per group, more when a group exceeds the staging buffer)
 * @param fsyncs         fsyncs issued: records per fsync shows how well group commit works
 * @param failed         a write or fsync failed; the log refuses appends until reopened
 */
public record WalStats(long writtenLsn, long durableLsn, long recordsWritten, long writes, long fsyncs,
                       boolean failed) {
}
