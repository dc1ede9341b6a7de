package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.ReplicationPort;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.WalCorruptionException;
import dev.redoubt.wal.WalReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of a primary-backup pair: a {@link Db}, a listener for backups and clients, and, on a backup, the
 * {@link WalReceiver} that streams from the primary.
 *
 * <ul>
 *   <li>A primary accepts writes at a {@link CommitLevel}; remote levels wait for a backup's ACK up to the
 *       timeout and never downgrade.</li>
 *   <li>A backup refuses local writes, applies the primary's records as redo, and serves reads.</li>
 *   <li>{@link #promote()} makes a backup primary at epoch + 1, logged at the fork LSN (the end of what it
 *       received) and recorded in the epoch history; the new primary then tells its former primary, until it
 *       answers, to stop ({@code FENCE}).</li>
 *   <li>A primary that learns of a higher epoch (a FENCE, a backup's stream request or ACK) is deposed at once:
 *       role FENCED, every later write refused with {@link ErrorCode#FENCED}.</li>
 * </ul>
 *
 * <p>Thread-safety: every public method may be called from any thread.
 */
public final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Node.class);
    /** Connections served at once; more are closed at accept (a flood cannot exhaust threads). */
    static final int MAX_CONNECTIONS = 64;

    /** What a node is doing. */
    public enum Role {
        PRIMARY,
        BACKUP,
        /** A former primary that learned of a newer epoch: refuses writes until it rejoins as a backup. */
        FENCED
    }

    private final NodeConfig config;
    private volatile Db db;
    private volatile ReplicationPort port;
    private final EpochHistory history;
    private final BackupProgress progress = new BackupProgress();
    private final LsnSignal signal = new LsnSignal();
    private final ServerSocket listener;
    private final ExecutorService connections = Executors.newCachedThreadPool(daemon("redoubt-conn"));
    private final Semaphore connectionSlots = new Semaphore(MAX_CONNECTIONS);
    private final java.util.Set<FrameChannel> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Object roleLock = new Object();
    private volatile Role role;
    private volatile WalReceiver receiver;
    private volatile Thread fencer;
    private volatile boolean closed;
    private final NodeMBean mbean;

    private Node(NodeConfig config, Db db, ServerSocket listener) {
        this.config = config;
        this.db = db;
        this.port = db.replication();
        this.history = EpochHistory.load(FileStorageEnv.INSTANCE, config.dir());
        this.listener = listener;
        this.role = config.role();
        this.mbean = NodeMBean.register(this);
    }

    /** Opens the database in {@code config.dir()} and starts serving in {@code config.role()}. */
    public static Node start(NodeConfig config) {
        if (Bootstrap.finishInterrupted(config.dir())) {
            LOG.info("finished installing a checkpoint that a crash interrupted in {}", config.dir());
        }
        Db db = openDb(config);
        ServerSocket listener = null;
        try {
            listener = PairSockets.listen(config.listen(), config.tls());
            Node node = new Node(config, db, listener);
            node.begin();
            return node;
        } catch (IOException | RuntimeException e) {
            closeQuietly(listener);
            db.close();
            if (e instanceof IOException io) {
                throw StorageException.fromIo("listening on " + config.listen(), io);
            }
            throw (RuntimeException) e;
        }
    }

    /**
     * Opens the database. A backup whose own WAL holds a damaged record does not stop: it recovers up to the
     * damage (the rest is quarantined in {@code lost/}) and re-fetches everything from there from its primary.
     */
    private static Db openDb(NodeConfig config) {
        try {
            return Db.open(config.dir(), config.dbOptions());
        } catch (WalCorruptionException e) {
            if (config.role() != Role.BACKUP) {
                throw e;
            }
            LOG.warn("this backup's WAL is damaged ({}); recovering up to the damage and re-fetching the rest from the"
                    + " primary", e.getMessage());
            return Db.open(config.dir(), config.dbOptions().copy().recoveryMode(RecoveryMode.POINT_IN_TIME));
        }
    }

    private void begin() {
        completeInterruptedPromotion();
        port.retainWalFrom(this::retentionFloor);
        if (role == Role.BACKUP) {
            port.refuseWrites(ErrorCode.INVALID_STATE, backupRefusal());
            startReceiver();
        }
        Thread accept = daemon("redoubt-listen").newThread(this::acceptLoop);
        accept.start();
        LOG.info("node {} serving as {} at epoch {} on {} (log end LSN {})", name(), role, epoch(),
                listener.getLocalSocketAddress(), port.writtenLsn());
    }

    /** A promotion that logged its EPOCH_CHANGE but crashed before recording it in the history is finished here. */
    private void completeInterruptedPromotion() {
        long walEpoch = port.epoch();
        if (walEpoch <= history.lastEpoch()) {
            return;
        }
        try (WalReader reader = port.newRawReader(port.startLsn())) {
            while (reader.next()) {
                if (reader.type() == RecordType.EPOCH_CHANGE && reader.epoch() == walEpoch) {
                    history.append(walEpoch, reader.lsn());
                    LOG.info("recorded epoch {} from LSN {} in the epoch history (a promotion was interrupted)",
                            walEpoch, reader.lsn());
                    return;
                }
            }
        }
        throw new StorageException(ErrorCode.CORRUPTION, "the WAL is at epoch " + walEpoch + " but neither the epoch"
                + " history nor the retained WAL says where it starts; rejoin this node (`redoubt node rejoin`)");
    }

    private long retentionFloor() {
        long needed = progress.oldestNeeded();
        long bound = port.writtenLsn() - config.maxRetainedWalBytes();
        return Math.max(needed, bound);
    }

    /**
     * The epoch a backup names in STREAM_FROM: its log's, or, right after a bootstrap (whose WAL may hold no
     * record of the current epoch yet), the epoch its adopted history says is in force at its end.
     */
    long streamEpoch() {
        return history.epochAt(port.writtenLsn(), port.epoch());
    }

    /** Swaps in a received checkpoint (see {@link Bootstrap}): closes the database, installs, reopens. */
    void installBootstrap() throws IOException {
        synchronized (roleLock) {
            db.close();
            Bootstrap.install(config.dir());
            db = Db.open(config.dir(), config.dbOptions());
            port = db.replication();
            port.retainWalFrom(this::retentionFloor);
            port.refuseWrites(ErrorCode.INVALID_STATE, backupRefusal());
        }
    }

    private String backupRefusal() {
        return "this node is a backup of " + config.primary()
                + "; send writes to the primary (or promote this node with `redoubt node promote`)";
    }

    private void startReceiver() {
        WalReceiver r = new WalReceiver(this, config.primary());
        receiver = r;
        daemon("redoubt-receiver").newThread(r).start();
    }

    // ------------------------------------------------------------------------------------------ writes, reads

    /** Writes the batch at the node's default commit level. */
    public WriteReceipt write(WriteBatch batch) {
        return write(batch, config.defaultCommit());
    }

    /**
     * Writes the batch (SYNC locally) and waits until it reaches {@code level}.
     *
     * @throws ReplicationTimeoutException if a remote level was not reached within the timeout (the write is
     *                                     durable locally; the exception's receipt says how far it got)
     * @throws StorageException            {@link ErrorCode#FENCED} on a deposed primary, INVALID_STATE on a backup
     */
    public WriteReceipt write(WriteBatch batch, CommitLevel level) {
        long lsn = port.write(batch, Durability.SYNC);
        signal.signal();
        if (level == CommitLevel.LOCAL) {
            return new WriteReceipt(lsn, WriteReceipt.Reached.LOCAL_DURABLE);
        }
        WriteReceipt.Reached remote;
        try {
            remote = progress.await(lsn, level.required(), TimeUnit.MILLISECONDS.toNanos(config.remoteTimeoutMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            remote = progress.remoteLevel(lsn);
        }
        WriteReceipt receipt = new WriteReceipt(lsn, remote == null ? WriteReceipt.Reached.LOCAL_DURABLE : remote);
        if (!receipt.satisfies(level)) {
            throw new ReplicationTimeoutException(receipt, level, config.remoteTimeoutMillis(),
                    progress.anyConnected() ? "the backup did not acknowledge in time" : "no backup is connected");
        }
        return receipt;
    }

    public Db db() {
        return db;
    }

    // ------------------------------------------------------------------------------------------ roles

    /**
     * Makes this backup the primary: stops streaming, logs epoch + 1 at the end of what it received (the fork
     * LSN), records it in the epoch history, accepts writes, and starts telling the former primary to stop.
     *
     * @return the new epoch and its fork LSN
     */
    public EpochHistory.Entry promote() {
        synchronized (roleLock) {
            if (role != Role.BACKUP) {
                throw new StorageException(ErrorCode.INVALID_STATE, "only a backup can be promoted; this node is " + role);
            }
            WalReceiver r = receiver;
            if (r != null) {
                r.stop();
            }
            long newEpoch = Math.max(history.lastEpoch(), port.epoch()) + 1;
            long fork = port.changeEpoch(newEpoch);
            history.append(newEpoch, fork);
            port.acceptWrites();
            role = Role.PRIMARY;
            LOG.info("promoted to primary at epoch {} from LSN {}", newEpoch, fork);
            if (r != null) {
                startFencer(r.primary(), newEpoch);
            }
            return new EpochHistory.Entry(newEpoch, fork);
        }
    }

    /** Deposes this primary: {@code epoch} is newer than its own. Idempotent. */
    void fence(long epoch, String why) {
        synchronized (roleLock) {
            if (role != Role.PRIMARY || epoch <= epoch()) {
                return;
            }
            // Writes are refused before the role says FENCED: whoever sees the role must see the refusal.
            port.refuseWrites(ErrorCode.FENCED, "this node was primary at epoch " + epoch() + " but epoch " + epoch
                    + " has begun elsewhere (" + why + "); it refuses writes. Stop it and run `redoubt node rejoin`"
                    + " to make it a backup of the new primary");
            role = Role.FENCED;
            LOG.warn("fenced: epoch {} has begun elsewhere ({}); refusing writes", epoch, why);
        }
        signal.signal();
    }

    private void startFencer(InetSocketAddress former, long epoch) {
        Thread t = daemon("redoubt-fencer").newThread(() -> {
            long backoff = 200;
            while (!closed && role == Role.PRIMARY) {
                try (NodeClient c = NodeClient.connect(former, config.secret(), 1_000)) {
                    c.fence(epoch);
                    LOG.info("told the former primary {} that epoch {} has begun", former, epoch);
                    return;
                } catch (RuntimeException | IOException e) {
                    LOG.debug("former primary {} not reachable yet: {}", former, e.getMessage());
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = Math.min(2_000, backoff * 2);
            }
        });
        fencer = t;
        t.start();
    }

    // ------------------------------------------------------------------------------------------ serving

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("accepting a connection failed: {}", e.getMessage());
                }
                continue;
            }
            if (!connectionSlots.tryAcquire()) {
                LOG.warn("refused {}: {} connections already open", socket.getRemoteSocketAddress(), MAX_CONNECTIONS);
                closeQuietly(socket);
                continue;
            }
            connections.execute(() -> {
                try {
                    serve(socket);
                } finally {
                    connectionSlots.release();
                }
            });
        }
    }

    private void serve(Socket socket) {
        String peer = String.valueOf(socket.getRemoteSocketAddress());
        try (FrameChannel channel = new FrameChannel(socket)) {
            open.add(channel);
            if (closed) {
                return;
            }
            int purpose = Handshake.asServer(channel, config.secret(), new Handshake.Welcome(epoch(),
                    switch (role) {
                        case BACKUP -> Handshake.ROLE_BACKUP;
                        case FENCED -> Handshake.ROLE_FENCED;
                        case PRIMARY -> Handshake.ROLE_PRIMARY;
                    }, port.segmentBytes()));
            if (purpose == Handshake.PURPOSE_REPLICA) {
                if (role != Role.PRIMARY) {
                    channel.send(new FrameBuilder().start(FrameType.ERROR).u16(ErrorCode.INVALID_STATE.ordinal())
                            .str("this node is " + role + ", not a primary; it cannot stream WAL"));
                    return;
                }
                new WalSender(this, channel).run();
            } else {
                new ClientSession(this, channel).run();
            }
        } catch (java.io.EOFException | SocketException e) {
            LOG.debug("{} closed the connection", peer);
        } catch (IOException e) {
            LOG.warn("disconnected {}: {}", peer, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("disconnected {} after an error: {}", peer, e.toString());
        } finally {
            open.removeIf(FrameChannel::isClosed);
        }
    }

    // ------------------------------------------------------------------------------------------ state

    public Role role() {
        return role;
    }

    public long epoch() {
        return port.epoch();
    }

    public InetSocketAddress listenAddress() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** The figures {@code redoubt node status} prints. */
    public NodeStatus status() {
        return NodeStatus.of(this);
    }

    boolean isPrimary() {
        return role == Role.PRIMARY;
    }

    NodeConfig config() {
        return config;
    }

    ReplicationPort port() {
        return port;
    }

    EpochHistory history() {
        return history;
    }

    BackupProgress progress() {
        return progress;
    }

    LsnSignal signal() {
        return signal;
    }

    WalReceiver receiver() {
        return receiver;
    }

    PeerSecret secret() {
        return config.secret();
    }

    String name() {
        InetSocketAddress at = listenAddress();
        return config.name() != null ? config.name() : at.getHostString() + ":" + at.getPort();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(listener);
        WalReceiver r = receiver;
        if (r != null) {
            r.stop();
        }
        Thread f = fencer;
        if (f != null) {
            f.interrupt();
        }
        open.forEach(FrameChannel::close);
        connections.shutdownNow();
        try {
            connections.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        mbean.unregister();
        db.close();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing after a failure
            }
        }
    }
}
