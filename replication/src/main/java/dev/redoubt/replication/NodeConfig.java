package dev.redoubt.replication;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.replication.failover.FailoverSettings;
import dev.redoubt.replication.raft.RaftTls;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * How to run a node of a primary-backup pair. {@code primary} is required for a backup (where it streams
 * from) and ignored for a primary. A null {@code name} means the address the node actually listens on. Listeners bind where {@code listen} says: pass a loopback address unless
 * peers on other hosts must connect. A non-null {@code tls} (the group credential of {@code redoubt raft tls-init})
 * makes every link of the node mutual TLS ({@link PairSockets}); the shared secret is still checked inside it.
 * A non-null {@code failover} turns automatic failover on (docs/pair-failover.md): the pair's failover group
 * then decides who is primary, {@code role} only says whether this node may claim a record nobody holds yet
 * (the settings' {@code claimEmpty}), and {@code primary} is not needed. {@code storageEnv} is the file layer of
 * the node's database, its epoch history and its rejoins (the real one unless a test injects faults or power cuts).
 */
public record NodeConfig(Path dir, Node.Role role, InetSocketAddress listen, InetSocketAddress primary,
                         PeerSecret secret, String name, CommitLevel defaultCommit, long remoteTimeoutMillis,
                         long maxRetainedWalBytes, DbOptions dbOptions, RaftTls tls,
                         FailoverSettings failover, StorageEnv storageEnv) {
    public static final long DEFAULT_REMOTE_TIMEOUT_MILLIS = 2_000;
    public static final long DEFAULT_MAX_RETAINED_WAL_BYTES = 1L << 30;

    public NodeConfig {
        if (role == Node.Role.FENCED) {
            throw new IllegalArgumentException("a node starts as primary or backup");
        }
        if (role == Node.Role.BACKUP && primary == null && failover == null) {
            throw new IllegalArgumentException("a backup needs the primary's address (--primary HOST:PORT)");
        }
        if (failover != null && failover.partner() == null) {
            throw new IllegalArgumentException("a node's failover settings name its partner node");
        }
        if (remoteTimeoutMillis <= 0 || maxRetainedWalBytes <= 0) {
            throw new IllegalArgumentException("the remote timeout and the WAL retention bound must be positive");
        }
    }

    /** A config with the defaults: commit LOCAL, 2 s remote timeout, 1 GiB retained WAL, default Db options. */
    public static NodeConfig of(Path dir, Node.Role role, InetSocketAddress listen, InetSocketAddress primary,
                                PeerSecret secret) {
        return new NodeConfig(dir, role, listen, primary, secret, null,
                CommitLevel.LOCAL, DEFAULT_REMOTE_TIMEOUT_MILLIS, DEFAULT_MAX_RETAINED_WAL_BYTES, DbOptions.defaults(), null,
                null, FileStorageEnv.INSTANCE);
    }

    /**
     * A node of a pair with automatic failover ({@code settings}) and the other defaults of {@link #of}: its
     * failover group decides its role ({@code settings.claimEmpty()} only lets it claim a record nobody holds).
     */
    public static NodeConfig withAutoFailover(Path dir, InetSocketAddress listen, PeerSecret secret,
                                              FailoverSettings settings) {
        return new NodeConfig(dir, settings.claimEmpty() ? Node.Role.PRIMARY : Node.Role.BACKUP, listen, null, secret,
                null, CommitLevel.LOCAL, DEFAULT_REMOTE_TIMEOUT_MILLIS, DEFAULT_MAX_RETAINED_WAL_BYTES,
                DbOptions.defaults(), null, settings, FileStorageEnv.INSTANCE);
    }

    public NodeConfig withDefaultCommit(CommitLevel level) {
        return new NodeConfig(dir, role, listen, primary, secret, name, level, remoteTimeoutMillis, maxRetainedWalBytes, dbOptions, tls, failover, storageEnv);
    }

    public NodeConfig withRemoteTimeoutMillis(long millis) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, millis, maxRetainedWalBytes, dbOptions, tls, failover, storageEnv);
    }

    public NodeConfig withDbOptions(DbOptions options) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis, maxRetainedWalBytes, options, tls, failover, storageEnv);
    }

    public NodeConfig withMaxRetainedWalBytes(long bytes) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis, bytes, dbOptions, tls, failover, storageEnv);
    }

    /** Every link of the node over mutual TLS with the group credential {@code credential} (null: plain TCP). */
    public NodeConfig withTls(RaftTls credential) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis,
                maxRetainedWalBytes, dbOptions, credential, failover, storageEnv);
    }

    public NodeConfig withName(String nodeName) {
        return new NodeConfig(dir, role, listen, primary, secret, nodeName, defaultCommit, remoteTimeoutMillis,
                maxRetainedWalBytes, dbOptions, tls, failover, storageEnv);
    }

    /** Automatic failover through the pair's failover group ({@code settings}; null: operator failover only). */
    public NodeConfig withFailover(FailoverSettings settings) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis,
                maxRetainedWalBytes, dbOptions, tls, settings, storageEnv);
    }

    /** The node's files through {@code env} (tests: a fault-injecting or power-loss layer). */
    public NodeConfig withStorageEnv(StorageEnv env) {
        return new NodeConfig(dir, role, listen, primary, secret, name, defaultCommit, remoteTimeoutMillis,
                maxRetainedWalBytes, dbOptions, tls, failover, env);
    }
}
