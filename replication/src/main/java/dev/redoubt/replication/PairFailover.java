package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.replication.failover.FailoverGroupClient;
import dev.redoubt.replication.failover.FailoverGroupMember;
import dev.redoubt.replication.failover.FailoverSettings;
import dev.redoubt.replication.failover.HolderLease;
import dev.redoubt.replication.raft.LagWatch;
import dev.redoubt.replication.failover.LeaseClock;
import dev.redoubt.replication.failover.PrimaryRecord;
import dev.redoubt.replication.failover.PrimaryRecordCommand;
import dev.redoubt.replication.failover.StandbyWatch;
import dev.redoubt.replication.raft.RaftGroupNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's automatic-failover agent (docs/pair-failover.md): it runs the node's member of the pair's failover
 * group and, every tick (a tenth of the lease), reads the primary record through the group's leader and acts on
 * it. Nothing here votes or elects: the record, committed by Ratis, says who is primary.
 *
 * <ul>
 *   <li><b>The record names this node</b> and it serves at the record's epoch: it renews every quarter lease;
 *       a renewal that commits extends its {@link HolderLease}, one the record refuses ends it. If the record
 *       names it but it does not serve at that epoch (it restarted), it first commits a promotion to a new epoch:
 *       every primary start is a new epoch.</li>
 *   <li><b>The record names the other node</b>: a primary here is fenced at once; then, unless it already
 *       streams from the holder at the record's epoch, the node rejoins as the holder's backup
 *       ({@link Node#rejoinAsBackupOf}). Meanwhile its {@link StandbyWatch} times the holder's renewals; when one
 *       has stayed unchanged for the standby wait, it proposes a takeover at the next epoch, and only if its own
 *       log has reached the record's epoch (a node emptied for a bootstrap must never take over).</li>
 *   <li><b>Nobody holds it</b>: a node whose settings allow it ({@code claimEmpty}, the pair's first primary)
 *       commits a promotion.</li>
 * </ul>
 * A promotion that takes the record from another node (the operator's {@code node promote}) waits the standby
 * wait after it commits before the node accepts writes, so the former holder's lease has run out by then.
 *
 * <p>Thread-safety: the agent thread and an operator's promotion take turns on this object's lock.
 */
final class PairFailover implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PairFailover.class);
    /** A read of the witness' view every this many ticks (for {@code node status}). */
    private static final int WITNESS_VIEW_EVERY_TICKS = 5;

    private final Node node;
    private final FailoverSettings settings;
    private final LeaseClock clock;
    private final StandbyWatch watch;
    private final LagWatch ownLag;
    private final LagWatch witnessLag;
    private final String witnessId;
    private final long tickMillis;
    private final long renewEveryNanos;
    private FailoverGroupMember member;
    private FailoverGroupClient client;
    private Thread thread;
    private volatile boolean closed;

    /** This node's current or coming tenure as primary; null when the record names someone else. */
    private Tenure tenure;
    /** The record's epoch at which this node last rejoined the holder as its backup. */
    private long attachedEpoch = -1;
    private long ticks;

    private volatile PrimaryRecord lastRecord;
    private volatile long lastRecordNanos;
    private volatile PrimaryRecord witnessRecord;
    private volatile String problem;

    /** The record's epoch this node holds, its lease, from when it may accept writes, and its last renewal. */
    private static final class Tenure {
        final long epoch;
        final HolderLease lease;
        final long notBeforeNanos;
        long lastRenewalSentNanos;
        boolean serving;

        Tenure(long epoch, HolderLease lease, long notBeforeNanos, long sentNanos) {
            this.epoch = epoch;
            this.lease = lease;
            this.notBeforeNanos = notBeforeNanos;
            this.lastRenewalSentNanos = sentNanos;
        }
    }

    /** What an operator's promotion did: the epoch committed, and when the node accepts writes. */
    record Promotion(EpochHistory.Entry entry, String message) {
    }

    PairFailover(Node node, FailoverSettings settings) {
        this.node = node;
        this.settings = settings;
        this.clock = settings.lease();
        this.watch = new StandbyWatch(settings.self(), clock);
        long patience = TimeUnit.MILLISECONDS.toNanos(clock.leaseMillis());
        this.ownLag = new LagWatch(patience);
        this.witnessLag = new LagWatch(patience);
        this.witnessId = settings.groupPeers().stream().map(RaftGroupNode.Peer::id)
                .filter(id -> !id.equals(settings.self()) && !id.equals(settings.partner().id()))
                .findFirst().orElseThrow();
        this.tickMillis = Math.max(20, clock.leaseMillis() / 10);
        this.renewEveryNanos = TimeUnit.MILLISECONDS.toNanos(clock.leaseMillis() / 4);
    }

    /** Starts this node's failover group member and the agent thread. */
    void start() {
        member = FailoverGroupMember.start(settings, node.config().tls());
        client = FailoverGroupClient.connect(settings.groupPeers(), node.config().tls(),
                Math.max(100, clock.leaseMillis() / 4), 2);
        Thread t = new Thread(this::run, "redoubt-failover");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    private void run() {
        while (!closed) {
            try {
                synchronized (this) {
                    step();
                }
                problem = null;
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    problem = e.getMessage();
                    LOG.debug("failover step: {}", e.toString());
                }
            }
            try {
                Thread.sleep(tickMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void step() throws IOException {
        PrimaryRecord r = client.read();
        lastRecord = r;
        lastRecordNanos = System.nanoTime();
        if (ticks++ % WITNESS_VIEW_EVERY_TICKS == 0) {
            refreshWitnessView();
            PrimaryRecord w = witnessRecord;
            if (w != null && witnessLag.stalled(w.renewalIndex(), r.renewalIndex(), lastRecordNanos)) {
                restartReplication("the witness " + witnessId);
            }
        }
        if (ownLag.stalled(member.appliedIndex(), r.renewalIndex(), lastRecordNanos)) {
            restartReplication("this node's member");
        }
        if (r.hasHolder() && r.holder().equals(settings.self())) {
            asHolder(r);
        } else if (r.hasHolder()) {
            asStandby(r);
        } else if (settings.claimEmpty()) {
            claim(PrimaryRecordCommand.promote(nextEpoch(r), settings.self()), r);
        }
    }

    private long nextEpoch(PrimaryRecord r) {
        return Math.max(r.epoch(), node.localEpoch()) + 1;
    }

    private void asHolder(PrimaryRecord r) throws IOException {
        Tenure t = tenure;
        if (t == null || t.epoch != r.epoch()) {
            // The record names this node, but it does not serve at that epoch: it restarted, or crashed while
            // promoting. Every primary start is a new epoch (a tail lost in a power cut shows up as divergence).
            claim(PrimaryRecordCommand.promote(nextEpoch(r), settings.self()), r);
            return;
        }
        long now = System.nanoTime();
        if (!t.serving && now - t.notBeforeNanos >= 0) {
            EpochHistory.Entry e = node.promoteAt(t.epoch, t.lease);
            t.serving = true;
            LOG.info("primary at epoch {} from LSN {} (the failover group's record names this node)", e.epoch(),
                    e.startLsn());
        }
        if (now - t.lastRenewalSentNanos >= renewEveryNanos) {
            long sent = System.nanoTime();
            t.lastRenewalSentNanos = sent;
            PrimaryRecord.Outcome o = client.propose(PrimaryRecordCommand.renew(t.epoch, settings.self()));
            lastRecord = o.record();
            lastRecordNanos = System.nanoTime();
            if (o.accepted()) {
                t.lease.renewed(sent);
            } else {
                LOG.warn("lease renewal refused ({}): no longer primary", o.refusal());
                t.lease.deposed();
                tenure = null;
            }
        }
    }

    private void asStandby(PrimaryRecord r) throws IOException {
        Tenure t = tenure;
        if (t != null) {
            t.lease.deposed();
            tenure = null;
        }
        if (node.role() == Node.Role.PRIMARY) {
            node.fence(r.epoch(), "the failover group names " + r.holder() + " primary at epoch " + r.epoch());
        }
        long now = System.nanoTime();
        watch.observed(r, now);
        PrimaryRecordCommand takeover = watch.takeoverDue(now);
        if (takeover != null) {
            if (node.localEpoch() >= r.epoch()) {
                LOG.warn("{} has not renewed its lease (index {}) for the standby wait: taking over at epoch {}",
                        r.holder(), r.renewalIndex(), takeover.epoch());
                claim(takeover, r);
                return;
            }
            problem = "the primary's lease ran out, but this node's log has not reached epoch " + r.epoch()
                    + " (it holds epoch " + node.localEpoch() + "): it cannot take over without losing writes; an"
                    + " operator may (`redoubt node promote`)";
        }
        InetSocketAddress holderAt = settings.dataAddressOf(r.holder());
        if (holderAt == null) {
            throw new StorageException(ErrorCode.INVALID_STATE, "the primary record names " + r.holder()
                    + ", which is neither this node nor its partner " + settings.partner().id());
        }
        if (attachedEpoch != r.epoch() || !node.streamsFrom(holderAt)) {
            Rejoin.Report report = node.rejoinAsBackupOf(holderAt);
            attachedEpoch = r.epoch();
            LOG.info("backup of {} at epoch {} ({}{})", r.holder(), r.epoch(), report.action(),
                    report.savedTo() == null ? "" : ", the discarded tail saved in " + report.savedTo());
        }
    }

    /** Commits {@code command}; accepted, this node's tenure begins (serving at once unless it must wait). */
    private void claim(PrimaryRecordCommand command, PrimaryRecord before) throws IOException {
        long sent = System.nanoTime();
        PrimaryRecord.Outcome o = client.propose(command);
        if (!o.accepted()) {
            LOG.info("the failover group refused {}: {}", command, o.refusal());
            return;
        }
        lastRecord = o.record();
        lastRecordNanos = System.nanoTime();
        HolderLease lease = new HolderLease(clock);
        lease.renewed(sent);
        boolean fromAnother = command.kind() == PrimaryRecordCommand.Kind.PROMOTE && before.hasHolder()
                && !before.holder().equals(settings.self());
        long notBefore = fromAnother ? clock.standbyMayTakeOverFrom(System.nanoTime()) : System.nanoTime();
        tenure = new Tenure(o.record().epoch(), lease, notBefore, sent);
        asHolder(o.record());
    }

    /**
     * The operator's {@code node promote}, through the record: a promotion to the next epoch. With
     * {@code waitUntilServing}, returns once the node accepts writes (up to the standby wait).
     */
    synchronized Promotion promoteForOperator(boolean waitUntilServing) {
        try {
            PrimaryRecord r = client.read();
            if (r.hasHolder() && r.holder().equals(settings.self()) && tenure != null && tenure.epoch == r.epoch()) {
                throw new StorageException(ErrorCode.INVALID_STATE, "this node already holds the primary record at"
                        + " epoch " + r.epoch());
            }
            claim(PrimaryRecordCommand.promote(nextEpoch(r), settings.self()), r);
            Tenure t = tenure;
            if (t == null) {
                throw new StorageException(ErrorCode.INVALID_STATE, "the failover group refused the promotion; see"
                        + " `redoubt node status` for the record");
            }
            while (waitUntilServing && !t.serving) {
                long waitMillis = TimeUnit.NANOSECONDS.toMillis(t.notBeforeNanos - System.nanoTime());
                wait(Math.max(1, waitMillis));
                asHolder(client.read());
            }
            long waitMillis = Math.max(0, TimeUnit.NANOSECONDS.toMillis(t.notBeforeNanos - System.nanoTime()));
            return new Promotion(new EpochHistory.Entry(t.epoch, node.port().writtenLsn()),
                    t.serving ? "promoted to primary at epoch " + t.epoch + " through the failover group"
                            : "the failover group names this node primary at epoch " + t.epoch + "; it accepts writes"
                            + " in " + waitMillis + " ms, when the former primary's lease has surely run out");
        } catch (IOException e) {
            throw new StorageException(ErrorCode.FAILED, "the failover group did not commit the promotion: "
                    + e.getMessage() + ". A promotion needs a majority of the pair's failover group (two of the two"
                    + " nodes and the witness)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(ErrorCode.FAILED, "interrupted while waiting to serve", e);
        }
    }

    /** {@link LagWatch}: a member stopped receiving the group's log; a new leader replicates to it afresh. */
    private void restartReplication(String who) {
        LOG.warn("{} of the failover group has applied nothing the group committed for {} ms: asking the group's"
                + " leader to step down so its successor replicates to every member afresh", who, clock.leaseMillis());
        try {
            client.stepDownLeader(clock.leaseMillis());
        } catch (IOException | RuntimeException e) {
            LOG.warn("the failover group's leader did not step down: {}", e.toString());
        }
    }

    private void refreshWitnessView() {
        try {
            witnessRecord = client.readFrom(witnessId);
        } catch (IOException | RuntimeException e) {
            witnessRecord = null;
        }
    }

    /** What {@code node status} shows of failover. */
    NodeStatus.FailoverStatus status() {
        PrimaryRecord r = lastRecord;
        PrimaryRecord w = witnessRecord;
        Tenure t = tenure;
        long now = System.nanoTime();
        HolderLease lease = t == null ? null : t.lease;
        FailoverGroupMember m = member;
        long applied = m == null ? -1 : m.appliedIndex();
        return new NodeStatus.FailoverStatus(r == null ? null : r.holder(), r == null ? -1 : r.epoch(),
                r == null ? -1 : r.renewalIndex(), r == null ? -1 : TimeUnit.NANOSECONDS.toMillis(now - lastRecordNanos),
                lease == null ? -1 : lease.validForMillis(now), clock.leaseMillis(), applied,
                r != null && applied >= r.renewalIndex(), witnessId, w == null ? null : w.holder(),
                w == null ? -1 : w.epoch(), problem);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (client != null) {
                client.close();
            }
        } finally {
            if (member != null) {
                member.close();
            }
        }
    }
}
