package dev.redoubt.wal;

import java.util.List;

/**
 * What opening a log found and did.
 *
 * @param mode              the recovery mode used
 * @param startLsn          first LSN of the oldest segment
 * @param endLsn            LSN at which the log continues (the next append's LSN, before any roll)
 * @param recordsRead       valid records kept (padding excluded)
 * @param segments          segment files examined
 * @param lastEpoch         epoch of the last record kept (0 for an empty log)
 * @param maxDurableLsn     highest durable LSN named by a kept record
 * @param dropped           every range not kept, in LSN order
 * @param acknowledgedLoss  some dropped range had been proven durable
 * @param elapsedNanos      time the recovery took
 */
public record RecoveryReport(RecoveryMode mode, long startLsn, long endLsn, long recordsRead, int segments,
                             long lastEpoch, long maxDurableLsn, List<DroppedRange> dropped,
                             boolean acknowledgedLoss, long elapsedNanos) {

    public long bytesDropped() {
        long total = 0;
        for (DroppedRange r : dropped) {
            total += r.bytes();
        }
        return total;
    }

    public boolean clean() {
        return dropped.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("WAL recovery (").append(mode).append("): ").append(recordsRead).append(" records in ")
                .append(segments).append(" segments, LSN ").append(startLsn).append("..").append(endLsn)
                .append(", ").append(bytesDropped()).append(" bytes dropped");
        if (acknowledgedLoss) {
            sb.append(", ACKNOWLEDGED DATA LOST");
        }
        sb.append(String.format(", %.1f ms", elapsedNanos / 1e6));
        for (DroppedRange r : dropped) {
            sb.append("\n  ").append(r);
        }
        return sb.toString();
    }
}
