package dev.redoubt.engine;

/** JMX view of a Db: the figures of {@link DbStats}, as an open MXBean (composite data). */
public interface DbStatsMXBean {
    DbStats getStats();
}
