package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.ReplicationPort;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.replication.failover.HolderLease;
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
 *   <li>With automatic failover ({@link NodeConfig#failover()}), the pair's failover group decides instead
 *       ({@link PairFailover}): a node starts as a backup that streams from nobody, becomes primary only while it
 *       holds the group's lease (every write checks it, before and after), and a deposed primary rejoins as a
 *       backup by itself.</li>
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
    private volatile EpochHistory history;
    private final BackupProgress progress = new BackupProgress();
    private final LsnSignal signal = new LsnSignal();
    private final ServerSocket listener;
    private final ExecutorService connections = Executors.newCachedThreadPool(daemon("redoubt-conn"));
    private final Semaphore connectionSlots = new Semaphore(MAX_CONNECTIONS);
    private final java.util.Set<FrameChannel> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Object roleLock = new Object();
    private volatile Role role;
    private volatile WalReceiver receiver;
    /** A backup: where it streams from (the config's primary, or whom the failover group names). */
    private volatile InetSocketAddress primaryAddress;
    /** While this node holds the failover group's lease as primary; null without automatic failover. */
    private volatile HolderLease lease;
    private final PairFailover failover;
    private volatile Thread fencer;
    private volatile boolean closed;
    private final NodeMBean mbean;

    private Node(NodeConfig config, Db db, ServerSocket listener) {
        this.config = config;
        this.db = db;
        this.port = db.replication();
        this.history = EpochHistory.load(config.storageEnv(), config.dir());
        this.listener = listener;
        this.role = config.failover() != null ? Role.BACKUP : config.role();
        this.primaryAddress = config.primary();
        this.failover = config.failover() != null ? new PairFailover(this, config.failover()) : null;
        this.mbean = NodeMBean.register(this);
    }

    /** Opens the database in {@code config.dir()} and starts serving in {@code config.role()}. */
    public static Node start(NodeConfig config) {
        if (Bootstrap.finishInterrupted(config.dir())) {
            LOG.info("finished installing a checkpoint that a crash interrupted in {}", config.dir());
        }
        Db db = openDb(config, config.failover() != null ? Role.BACKUP : config.role());
        ServerSocket listener = null;
        Node node = null;
        try {
            listener = PairSockets.listen(config.listen(), config.tls());
            node = new Node(config, db, listener);
            node.begin();
            return node;
        } catch (IOException | RuntimeException e) {
            if (node != null && node.failover != null) {
                closeQuietly(node.failover);
            }
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
    private static Db openDb(NodeConfig config, Role role) {
        try {
            return Db.open(config.storageEnv(), config.dir(), config.dbOptions());
        } catch (WalCorruptionException e) {
            if (role != Role.BACKUP) {
                throw e;
            }
            LOG.warn("this backup's WAL is damaged ({}); recovering up to the damage and re-fetching the rest from the"
                    + " primary", e.getMessage());
            return Db.open(config.storageEnv(), config.dir(),
                    config.dbOptions().copy().recoveryMode(RecoveryMode.POINT_IN_TIME));
        }
    }

    private void begin() {
        completeInterruptedPromotion();
        port.retainWalFrom(this::retentionFloor);
        if (shipsBeforeFsync()) {
            port.onShippable(signal::signal); // else a write's own signal wakes the sender once it is durable
        }
        if (failover != null) {
            port.refuseWrites(ErrorCode.INVALID_STATE, "this node waits for its failover group to name the pair's"
                    + " primary; send writes to the primary (`redoubt node status` on either node names it)");
        } else if (role == Role.BACKUP) {
            port.refuseWrites(ErrorCode.INVALID_STATE, backupRefusal());
            startReceiver();
        }
        Thread accept = daemon("redoubt-listen").newThread(this::acceptLoop);
        accept.start();
        if (failover != null) {
            failover.start();
        }
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
            reopenRefusingWrites(Db.open(config.storageEnv(), config.dir(), config.dbOptions()), backupRefusal());
        }
    }

    /**
     * Puts a reopened database in place, refusing writes with {@code refusal} before any writer can reach it (a
     * freshly opened database accepts writes: a backup must never take one).
     */
    private void reopenRefusingWrites(Db reopened, String refusal) {
        ReplicationPort p = reopened.replication();
        p.refuseWrites(ErrorCode.INVALID_STATE, refusal);
        p.retainWalFrom(this::retentionFloor);
        if (shipsBeforeFsync()) {
            p.onShippable(signal::signal);
        }
        db = reopened;
        port = p;
    }

    private String backupRefusal() {
        return "this node is a backup of " + primaryAddress
                + "; send writes to the primary (or promote this node with `redoubt node promote`)";
    }

    private void startReceiver() {
        WalReceiver r = new WalReceiver(this, primaryAddress);
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
        HolderLease held = lease;
        if (held != null && !held.mayAcceptWrites(System.nanoTime())) {
            throw new StorageException(ErrorCode.FENCED, "this primary's lease from the failover group has run out"
                    + " (the group is unreachable from here, or names another node); it refuses writes until a"
                    + " renewal commits. Retry: a PairClient finds whichever node is primary");
        }
        ReplicationPort accepting = port;
        long lsn = accepting.write(batch, Durability.SYNC);
        // The write's epoch: a primary's epoch changes only when it is promoted, before it accepts any write.
        long epoch = accepting.epoch();
        signal.signal();
        if (level == CommitLevel.LOCAL) {
            if (held != null && !held.mayAcceptWrites(System.nanoTime())) {
                // Acknowledging now could overlap another node's tenure: the write's fate is the rejoin's.
                throw new StorageException(ErrorCode.FENCED, "this primary's lease ran out while the write at LSN "
                        + lsn + " was being made durable: it is on this node's disk, but a rejoin will move it to lost/"
                        + " if the other node has taken over. Retry it on the primary");
            }
            return new WriteReceipt(lsn, WriteReceipt.Reached.LOCAL_DURABLE, epoch);
        }
        WriteReceipt.Reached remote;
        try {
            remote = progress.await(lsn, level.required(), TimeUnit.MILLISECONDS.toNanos(config.remoteTimeoutMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            remote = progress.remoteLevel(lsn);
        }
        WriteReceipt receipt = new WriteReceipt(lsn, remote == null ? WriteReceipt.Reached.LOCAL_DURABLE : remote,
                epoch);
        if (!receipt.satisfies(level)) {
            throw new ReplicationTimeoutException(receipt, level, config.remoteTimeoutMillis(),
                    progress.anyConnected() ? "the backup did not acknowledge in time" : "no backup is connected");
        }
        return receipt;
    }

    /**
     * Reads {@code key}. {@link CommitLevel#LOCAL}: this node's data as it stands (on a backup, what it has applied;
     * on a primary, possibly a write not yet on the backup, which a failover would lose). A remote level, on the
     * primary only: the read waits until everything it could have seen has reached that level on the backup, and,
     * with automatic failover, answers only if this node's lease still holds afterwards; so no value it returns can
     * be lost in a failover, and no other node can have accepted a newer write yet: the read is linearizable with
     * the writes acknowledged at that level.
     *
     * @throws ReplicationTimeoutException the backup did not acknowledge in time
     * @throws StorageException            INVALID_STATE on a backup (remote levels), FENCED on a primary that lost its lease
     */
    public byte[] get(byte[] key, CommitLevel level) {
        if (level == CommitLevel.LOCAL) {
            return db.get(key);
        }
        if (role != Role.PRIMARY) {
            throw new StorageException(role == Role.FENCED ? ErrorCode.FENCED : ErrorCode.INVALID_STATE,
                    "a read at " + level + " is answered by the primary; this node is " + role);
        }
        byte[] value = db.get(key);
        long end = port.writtenLsn(); // every write the read could see ends at or before this
        if (end > 0) {
            WriteReceipt.Reached reached;
            try {
                reached = progress.await(end - 1, level.required(),
                        TimeUnit.MILLISECONDS.toNanos(config.remoteTimeoutMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reached = progress.remoteLevel(end - 1);
            }
            WriteReceipt receipt = new WriteReceipt(end - 1, reached == null ? WriteReceipt.Reached.LOCAL_DURABLE : reached);
            if (!receipt.satisfies(level)) {
                throw new ReplicationTimeoutException(receipt, level, config.remoteTimeoutMillis(),
                        "the backup did not acknowledge what the read could see in time");
            }
        }
        HolderLease held = lease;
        if (role != Role.PRIMARY || held != null && !held.mayAcceptWrites(System.nanoTime())) {
            throw new StorageException(ErrorCode.FENCED, "this node's tenure as primary ended while the read was"
                    + " waiting; read again (a PairClient finds the primary)");
        }
        return value;
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
        if (failover != null) {
            return failover.promoteForOperator(true).entry();
        }
        synchronized (roleLock) {
            return promoteAt(localEpoch() + 1, null);
        }
    }

    /**
     * What {@code redoubt node promote} does: {@link #promote()}, or with automatic failover, the promotion
     * committed in the failover group (the node accepts writes once the former primary's lease has surely run
     * out, which the message says).
     */
    String promoteForOperator() {
        if (failover == null) {
            EpochHistory.Entry e = promote();
            return "promoted to primary at epoch " + e.epoch() + " from LSN " + e.startLsn();
        }
        return failover.promoteForOperator(false).message();
    }

    /** The newest epoch this node has logged or recorded. */
    long localEpoch() {
        return Math.max(history.lastEpoch(), port.epoch());
    }

    /**
     * Makes this backup the primary at {@code newEpoch} (newer than {@link #localEpoch()}); with automatic
     * failover, holding {@code holderLease}.
     */
    EpochHistory.Entry promoteAt(long newEpoch, HolderLease holderLease) {
        synchronized (roleLock) {
            if (role != Role.BACKUP) {
                throw new StorageException(ErrorCode.INVALID_STATE, "only a backup can be promoted; this node is " + role);
            }
            if (newEpoch <= localEpoch()) {
                throw new StorageException(ErrorCode.INVALID_STATE, "cannot promote to epoch " + newEpoch
                        + ": this node has seen epoch " + localEpoch() + " already");
            }
            WalReceiver r = receiver;
            if (r != null) {
                r.stop();
            }
            long fork = port.changeEpoch(newEpoch);
            history.append(newEpoch, fork);
            lease = holderLease;
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
                    + " has begun elsewhere (" + why + "); it refuses writes. " + (failover != null
                    ? "It rejoins as a backup of the new primary by itself"
                    : "Stop it and run `redoubt node rejoin` to make it a backup of the new primary"));
            role = Role.FENCED;
            LOG.warn("fenced: epoch {} has begun elsewhere ({}); refusing writes", epoch, why);
        }
        signal.signal();
    }

    /**
     * With automatic failover: makes this node a backup of {@code holder} whatever it was (a deposed primary, a
     * backup of nobody or of an older epoch): stops streaming, closes the database, runs {@link Rejoin} against
     * the holder (a divergent tail is copied to {@code lost/} and cut), reopens and streams from the holder. The
     * database is reopened even when the rejoin fails (the holder not reachable yet), so reads keep working.
     */
    Rejoin.Report rejoinAsBackupOf(InetSocketAddress holder) throws IOException {
        synchronized (roleLock) {
            WalReceiver r = receiver;
            if (r != null) {
                r.stop();
                receiver = null;
            }
            lease = null;
            if (role == Role.PRIMARY) {
                port.refuseWrites(ErrorCode.FENCED, "this node is stepping down to rejoin as a backup of " + holder);
                role = Role.FENCED;
            }
            db.close();
            Rejoin.Report report;
            try {
                report = Rejoin.run(config.storageEnv(), config.dir(), holder, config.secret(), config.tls());
            } finally {
                reopenRefusingWrites(openDb(config, Role.BACKUP), "this node is rejoining as a backup of " + holder
                        + "; send writes to the primary");
                history = EpochHistory.load(config.storageEnv(), config.dir());
            }
            primaryAddress = holder;
            port.refuseWrites(ErrorCode.INVALID_STATE, backupRefusal());
            role = Role.BACKUP;
            startReceiver();
            return report;
        }
    }

    /** Whether this node is a backup streaming from {@code holder} with no divergence found. */
    boolean streamsFrom(InetSocketAddress holder) {
        WalReceiver r = receiver;
        return role == Role.BACKUP && r != null && r.isRunning() && r.divergedAt() < 0 && holder.equals(primaryAddress);
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

    /**
     * Whether this node, as primary, ships records before its own fsync completes (so the backup's fsync overlaps
     * it): only with automatic failover and {@link dev.redoubt.replication.failover.FailoverSettings#shipBeforeFsync},
     * where every primary start is a new epoch handed out by the failover group, so a tail lost in a power cut is
     * detected as divergence and no two nodes ever serve the same epoch. Without automatic failover (an operator
     * could restart a former primary as primary at the same new epoch as the promoted backup), only durable
     * records are shipped.
     */
    boolean shipsBeforeFsync() {
        return failover != null && config.failover().shipBeforeFsync();
    }

    /** The end of what this node may ship: written to the OS ({@link #shipsBeforeFsync}), or durable. */
    long shippableLsn() {
        return shipsBeforeFsync() ? port.shippableLsn() : port.durableLsn();
    }

    /** The failover agent, or null without automatic failover. */
    PairFailover failover() {
        return failover;
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
        if (failover != null) {
            closeQuietly(failover);
        }
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
