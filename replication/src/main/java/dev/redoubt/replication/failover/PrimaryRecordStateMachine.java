package dev.redoubt.replication.failover;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;

/**
 * The state machine of a node pair's failover group (docs/pair-failover.md): one {@link PrimaryRecord}, changed
 * by {@link PrimaryRecordCommand} entries in log order, the same on every member (the two nodes and the
 * witness). A command the record refuses (a stale renewal, a takeover that did not see the latest renewal) is
 * applied as a no-op that says why, so the log never stops on it.
 *
 * <pre>
 * Reply to a command and answer to a query (big-endian):
 *   u8  accepted (1) or refused (0; a query: 1)
 *   u16 refusal length R (0 .. 4096), then R bytes UTF-8: why it was refused
 *   the record after the command (PrimaryRecord's encoding)
 * </pre>
 *
 * Snapshots: the record's encoding in one file of Ratis' {@link SimpleStateMachineStorage}, named by the term
 * and index it holds, with its MD5 beside it; the log is purged behind it, so renewals every few seconds do not
 * grow the log forever.
 */
public final class PrimaryRecordStateMachine extends BaseStateMachine {
    static final int MAX_REFUSAL_BYTES = 4096;
    private static final int MAX_SNAPSHOT_BYTES = 256;

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final int leaseMillis;
    private volatile PrimaryRecord record;

    /** A group whose record starts with no holder and leases of {@code leaseMillis}. */
    public PrimaryRecordStateMachine(int leaseMillis) {
        this.leaseMillis = leaseMillis;
        this.record = PrimaryRecord.initial(leaseMillis);
    }

    /** The record as this member has applied it (it may lag the group's latest; ask the leader for that). */
    public PrimaryRecord record() {
        return record;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        reinitialize();
    }

    @Override
    public void reinitialize() throws IOException {
        SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
        if (snapshot == null) {
            return;
        }
        File file = snapshot.getFile().getPath().toFile();
        if (file.length() > MAX_SNAPSHOT_BYTES) {
            throw new IOException(file + " is " + file.length() + " bytes: not a primary record snapshot");
        }
        MD5Hash md5 = snapshot.getFile().getFileDigest();
        if (md5 != null) {
            MD5FileUtil.verifySavedMD5(file, md5);
        }
        try {
            record = PrimaryRecord.decode(Files.readAllBytes(file.toPath()));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        updateLastAppliedTermIndex(snapshot.getTermIndex());
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public synchronized long takeSnapshot() throws IOException {
        TermIndex applied = getLastAppliedTermIndex();
        if (applied == null) {
            return -1;
        }
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        Files.write(file.toPath(), record.encode(), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), applied));
        return applied.getIndex();
    }

    @Override
    public synchronized CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        var entry = trx.getLogEntry();
        long index = entry.getIndex();
        PrimaryRecord.Outcome outcome;
        try {
            PrimaryRecordCommand command = PrimaryRecordCommand.decode(
                    entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
            outcome = record.apply(command, index);
        } catch (IllegalArgumentException e) {
            outcome = new PrimaryRecord.Outcome(record, "malformed command at index " + index + ": " + e.getMessage());
        }
        record = outcome.record();
        updateLastAppliedTermIndex(entry.getTerm(), index);
        return CompletableFuture.completedFuture(Message.valueOf(
                org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(encodeReply(outcome))));
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        return CompletableFuture.completedFuture(Message.valueOf(
                org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(
                        encodeReply(new PrimaryRecord.Outcome(record, null)))));
    }

    static byte[] encodeReply(PrimaryRecord.Outcome outcome) {
        byte[] refusal = outcome.accepted() ? new byte[0] : outcome.refusal().getBytes(StandardCharsets.UTF_8);
        int r = Math.min(refusal.length, MAX_REFUSAL_BYTES);
        byte[] rec = outcome.record().encode();
        return ByteBuffer.allocate(1 + 2 + r + rec.length).put((byte) (outcome.accepted() ? 1 : 0))
                .putShort((short) r).put(refusal, 0, r).put(rec).array();
    }

    /** Decodes a reply or an answer; hostile bytes are an {@link IllegalArgumentException} saying what. */
    static PrimaryRecord.Outcome decodeReply(ByteBuffer bytes) {
        ByteBuffer b = bytes.slice();
        if (b.remaining() < 3) {
            throw new IllegalArgumentException("a primary record reply of " + b.remaining() + " bytes");
        }
        int accepted = b.get() & 0xFF;
        int r = b.getShort() & 0xFFFF;
        if (accepted > 1 || r > MAX_REFUSAL_BYTES || r > b.remaining() || (accepted == 1) != (r == 0)) {
            throw new IllegalArgumentException("a malformed primary record reply");
        }
        byte[] refusal = new byte[r];
        b.get(refusal);
        byte[] rec = new byte[b.remaining()];
        b.get(rec);
        return new PrimaryRecord.Outcome(PrimaryRecord.decode(rec),
                accepted == 1 ? null : new String(refusal, StandardCharsets.UTF_8));
    }
}
