package dev.redoubt.replication;

/** A node's replication figures over JMX ({@code dev.redoubt:type=Node,name=<node name>}). */
public interface NodeMXBean {
    String getRole();

    long getEpoch();

    long getWrittenLsn();

    long getDurableLsn();

    long getRetainedWalBytes();

    int getConnectedBackups();

    /** The largest lag of a registered backup behind this primary's durable LSN (0 on a backup). */
    long getMaxBackupLagBytes();

    long getMaxBackupLagMillis();

    /** On a backup: how far it is behind what the primary last reported durable. */
    long getLagBehindPrimaryBytes();

    /** The whole status as JSON, as {@code redoubt node status --json} prints it. */
    String getStatusJson();
}
