package dev.redoubt.wal;

/** When an append is acknowledged. */
public enum Durability {
    /** After fsync: the record survives a power cut. The default. */
    SYNC,
    /**
     * After the write reaches the operating system: the record survives {@code kill -9} of the process but
     * not a power cut; the background flusher fsyncs within {@link WalOptions#asyncFlushIntervalMillis()}.
     */
    ASYNC
}
