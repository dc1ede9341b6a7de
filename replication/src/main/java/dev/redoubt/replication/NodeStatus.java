package dev.redoubt.replication;

import dev.redoubt.engine.ReplicationPort;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's figures at one moment: role, epoch, its own log positions, and per backup (on a primary) or for
 * the primary (on a backup) the acknowledged positions and lag. {@link #toJson()} is what
 * {@code redoubt node status --json} prints; field names are stable.
 */
public record NodeStatus(String name, String role, long epoch, String listen, long writtenLsn, long durableLsn,
                         long appliedLsn, long checkpointLsn, long walStartLsn, long retainedWalBytes,
                         long maxRetainedWalBytes, String defaultCommit, List<BackupStatus> backups,
                         PrimaryStatus primary, FailoverStatus failover) {

    /** A backup as its primary sees it. Lag is against the primary's durable LSN. */
    public record BackupStatus(String name, String address, boolean connected, long receivedLsn, long durableLsn,
                               long appliedLsn, long lagBytes, long lagMillis) {
    }

    /** The primary as a backup sees it. */
    public record PrimaryStatus(String address, boolean connected, long primaryDurableLsn, long lagBytes,
                                long lastFrameAgoMillis, String problem, long divergedAtLsn) {
    }

    /**
     * Automatic failover as this node sees it (null without it): the primary record as last read through the
     * group's leader ({@code recordAgeMillis} ago; holder null before the first read, "" when nobody holds it),
     * this node's lease ({@code leaseValidForMillis}: -1 when it does not hold the record, 0 when it holds it but
     * its lease has run out), how far this node's own member of the group has applied the group's log
     * ({@code memberCaughtUp}: up to the record's latest change; a member with an empty log cannot vote, so a
     * standby is ready to take over only once it caught up), the record as the witness has applied it (epoch -1:
     * unreachable), and the last problem of the failover agent.
     */
    public record FailoverStatus(String holder, long epoch, long renewalIndex, long recordAgeMillis,
                                 long leaseValidForMillis, int leaseMillis, long memberAppliedIndex,
                                 boolean memberCaughtUp, String witness, String witnessHolder, long witnessEpoch,
                                 String problem) {
    }

    static NodeStatus of(Node node) {
        ReplicationPort p = node.port();
        long durable = p.durableLsn();
        long now = System.currentTimeMillis();
        List<BackupStatus> backups = new ArrayList<>();
        for (BackupProgress.Backup b : node.progress().all()) {
            long lagBytes = Math.max(0, durable - b.applied);
            backups.add(new BackupStatus(b.name, b.address, b.connected, b.received, b.durable, b.applied, lagBytes,
                    lagBytes == 0 ? 0 : now - b.caughtUpMillis));
        }
        WalReceiver r = node.receiver();
        PrimaryStatus primary = r == null || node.role() != Node.Role.BACKUP ? null
                : new PrimaryStatus(String.valueOf(r.primary()), r.connected(), r.primaryDurable(),
                        Math.max(0, r.primaryDurable() - p.writtenLsn()),
                        r.lastFrameMillis() == 0 ? -1 : now - r.lastFrameMillis(), r.lastProblem(), r.divergedAt());
        return new NodeStatus(node.name(), node.role().name(), node.epoch(), String.valueOf(node.listenAddress()),
                p.writtenLsn(), durable, p.writtenLsn(), p.checkpointLsn(), p.startLsn(), p.retainedWalBytes(),
                node.config().maxRetainedWalBytes(), node.config().defaultCommit().name(), backups, primary,
                node.failover() == null ? null : node.failover().status());
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        field(sb, "name", name).append(',');
        field(sb, "role", role).append(',');
        field(sb, "epoch", epoch).append(',');
        field(sb, "listen", listen).append(',');
        field(sb, "writtenLsn", writtenLsn).append(',');
        field(sb, "durableLsn", durableLsn).append(',');
        field(sb, "appliedLsn", appliedLsn).append(',');
        field(sb, "checkpointLsn", checkpointLsn).append(',');
        field(sb, "walStartLsn", walStartLsn).append(',');
        field(sb, "retainedWalBytes", retainedWalBytes).append(',');
        field(sb, "maxRetainedWalBytes", maxRetainedWalBytes).append(',');
        field(sb, "defaultCommit", defaultCommit).append(",\"backups\":[");
        for (int i = 0; i < backups.size(); i++) {
            BackupStatus b = backups.get(i);
            sb.append(i == 0 ? "{" : ",{");
            field(sb, "name", b.name()).append(',');
            field(sb, "address", b.address()).append(',');
            field(sb, "connected", b.connected()).append(',');
            field(sb, "receivedLsn", b.receivedLsn()).append(',');
            field(sb, "durableLsn", b.durableLsn()).append(',');
            field(sb, "appliedLsn", b.appliedLsn()).append(',');
            field(sb, "lagBytes", b.lagBytes()).append(',');
            field(sb, "lagMillis", b.lagMillis()).append('}');
        }
        sb.append("],\"primary\":");
        if (primary == null) {
            sb.append("null");
        } else {
            sb.append('{');
            field(sb, "address", primary.address()).append(',');
            field(sb, "connected", primary.connected()).append(',');
            field(sb, "primaryDurableLsn", primary.primaryDurableLsn()).append(',');
            field(sb, "lagBytes", primary.lagBytes()).append(',');
            field(sb, "lastFrameAgoMillis", primary.lastFrameAgoMillis()).append(',');
            field(sb, "problem", primary.problem()).append(',');
            field(sb, "divergedAtLsn", primary.divergedAtLsn()).append('}');
        }
        sb.append(",\"failover\":");
        if (failover == null) {
            sb.append("null");
        } else {
            sb.append('{');
            field(sb, "holder", failover.holder()).append(',');
            field(sb, "epoch", failover.epoch()).append(',');
            field(sb, "renewalIndex", failover.renewalIndex()).append(',');
            field(sb, "recordAgeMillis", failover.recordAgeMillis()).append(',');
            field(sb, "leaseValidForMillis", failover.leaseValidForMillis()).append(',');
            field(sb, "leaseMillis", failover.leaseMillis()).append(',');
            field(sb, "memberAppliedIndex", failover.memberAppliedIndex()).append(',');
            field(sb, "memberCaughtUp", failover.memberCaughtUp()).append(',');
            field(sb, "witness", failover.witness()).append(',');
            field(sb, "witnessHolder", failover.witnessHolder()).append(',');
            field(sb, "witnessEpoch", failover.witnessEpoch()).append(',');
            field(sb, "problem", failover.problem()).append('}');
        }
        return sb.append('}').toString();
    }

    private static StringBuilder field(StringBuilder sb, String key, Object value) {
        sb.append('"').append(key).append("\":");
        if (value == null) {
            return sb.append("null");
        }
        if (value instanceof Number || value instanceof Boolean) {
            return sb.append(value);
        }
        sb.append('"');
        for (char c : value.toString().toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }
}
