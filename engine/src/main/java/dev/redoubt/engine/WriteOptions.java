package dev.redoubt.engine;

import dev.redoubt.wal.Durability;

/**
 * Per-write options.
 *
 * @param durability {@code SYNC}: acknowledged after fsync; {@code ASYNC}: after the OS write (survives kill -9)
 */
public record WriteOptions(Durability durability) {
    public static final WriteOptions SYNC = new WriteOptions(Durability.SYNC);
    public static final WriteOptions ASYNC = new WriteOptions(Durability.ASYNC);
}
