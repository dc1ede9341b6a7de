package dev.redoubt.engine;

/** One key and its value, as returned by a scan. */
public record KeyValue(byte[] key, byte[] value) {
}
