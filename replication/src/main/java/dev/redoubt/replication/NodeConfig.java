package dev.redoubt.replication;

import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.raft.RaftTls;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * How to run a node of a primary-backup pair. {@code primary} is required for a backup (where it streams
 * from) and ignored for a primary. A null {@code name} means the address the node actually listens on. Listeners bind where {@code listen} says: pass a loopback address unless
 * peers on other hosts must connect. A non-null {@code tls} (the group credential of {@code redoubt raft tls-init})
 * makes every link of the node mutual TLS ({@link PairSockets}); the shared secret is still checked inside it.
 */
public record NodeConfig(Path dir, Node.Role role, InetSocketAddress listen, InetSocketAddress primary,
                         PeerSecret secret, String name, CommitLevel defaultCommit, long remoteTimeoutMillis,
                         long maxRetainedWalBytes, DbOptions dbOptions, RaftTls tls) {
    public static final long DEFAULT_REMOTE_TIMEOUT_MILLIS = 2_000;
    public static final long DEFAULT_MAX_RETAINED_WAL_BYTES = 1L << 30;

    public NodeConfig {
        if (role == Node.Role.FENCED) {
            throw new IllegalArgumentException("a node starts as primary or backup");
        }
        if (role == Node.Role.BACKUP && primary == null) {
            throw new IllegalArgumentException("a backup needs the primary's address (--primary HOST:PORT)");
        }
        if (remoteTimeoutMillis <= 0 || maxRetainedWalBytes <= 0) {
            throw new IllegalArgumentException("the remote timeout and the WAL retention bound must be positive");
        }
    }

    /** A config with the defaults: commit LOCAL, 2 s remote timeout, 1 GiB retained WAL, default Db options. */
    public static NodeConfig of(Path dir, Node.Role role, InetSocketAddress listen, InetSocketAddress primary,
                                PeerSecret secret) {
        return new NodeConfig(dir, role, listen, primary, secret, null,
                CommitLevel.LOCAL, DEFAULT_REMOTE_TIMEOUT_MILLIS, DEFAULT_MAX_RETAINED_WAL_BYTES, DbOptions.defaults(), null);
    }

    public NodeConfig withDefaultCommit(CommitLevel level) {
        return new NodeConfig(dir, role, listen, primary, secret, name, level, remoteTimeoutMillis, maxRetainedWalBytes, dbOptions, tls);
    }

    public NodeConfig withRemoteTimeoutMillis(long millis) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, millis, maxRetainedWalBytes, dbOptions, tls);
    }

    public NodeConfig withDbOptions(DbOptions options) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis, maxRetainedWalBytes, options, tls);
    }

    public NodeConfig withMaxRetainedWalBytes(long bytes) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis, bytes, dbOptions, tls);
    }

    /** Every link of the node over mutual TLS with the group credential {@code credential} (null: plain TCP). */
    public NodeConfig withTls(RaftTls credential) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis,
                maxRetainedWalBytes, dbOptions, credential);
    }
}
