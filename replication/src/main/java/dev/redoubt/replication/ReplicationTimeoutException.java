package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;

/**
 * A write did not reach its commit level within the timeout. It is not acknowledged at that level; its
 * {@link #receipt()} says what it did reach (it is durable on the primary, and may still reach the backup).
 */
public final class ReplicationTimeoutException extends StorageException {
    private static final long serialVersionUID = 1L;
    private final WriteReceipt receipt;

    public ReplicationTimeoutException(WriteReceipt receipt, CommitLevel wanted, long timeoutMillis, String why) {
        super(ErrorCode.FAILED, "the write at LSN " + receipt.lsn() + " reached " + receipt.reached() + " but not "
                + wanted + " within " + timeoutMillis + " ms (" + why + "); it is not acknowledged as " + wanted
                + ". Check that the backup is running and reachable (`redoubt node status`), or write with a lower"
                + " commit level");
        this.receipt = receipt;
    }

    public WriteReceipt receipt() {
        return receipt;
    }
}
