package dev.redoubt.replication.raft;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.engine.WriteOptions;
import dev.redoubt.wal.Durability;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;

/**
 * The engine as a Ratis state machine (docs/raft-design.md). Each committed entry is applied as one atomic
 * write batch that also records the entry's (term, index) under a reserved key, so the engine's state is always
 * an index prefix and redo is idempotent by index: after a restart the engine reports the highest index it
 * holds, Ratis replays the committed entries after it, and an entry at or below it is skipped.
 *
 * <p>Key space: a client key {@code k} is stored as {@code 0x01 | k}; {@code 0x00 ...} is reserved for this
 * class's metadata, so no client write can touch it and no client read sees it.
 *
 * <p>Durability: the Raft log (fsynced by Ratis on a majority before an entry commits) is the durable log; the
 * engine applies with {@link Durability#ASYNC}, so the hot path has one fsync (the design's decision).
 *
 * <p>Not yet (issue 7 continues): snapshots (engine checkpoints) and install-snapshot; until then Ratis keeps
 * its whole log.
 */
public final class DbStateMachine extends BaseStateMachine {
    static final byte[] APPLIED_KEY = {0x00, 'r', 'a', 'f', 't', '.', 'a', 'p', 'p', 'l', 'i', 'e', 'd'};
    static final byte USER_PREFIX = 0x01;
    private static final WriteOptions APPLY = WriteOptions.ASYNC;

    private final Path dir;
    private final DbOptions options;
    private volatile Db db;

    public DbStateMachine(Path dir, DbOptions options) {
        this.dir = dir;
        this.options = options;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
        super.initialize(server, groupId, storage);
        db = Db.open(dir, options);
        byte[] applied = db.get(APPLIED_KEY);
        if (applied != null) {
            ByteBuffer b = ByteBuffer.wrap(applied);
            setLastAppliedTermIndex(TermIndex.valueOf(b.getLong(), b.getLong()));
        }
    }

    /** The highest Raft index this node's engine holds (0 before the first entry). */
    public long appliedIndex() {
        TermIndex t = getLastAppliedTermIndex();
        return t == null ? 0 : t.getIndex();
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        TermIndex termIndex = TermIndex.valueOf(entry);
        if (termIndex.getIndex() <= appliedIndex()) {
            return CompletableFuture.completedFuture(Message.valueOf("skipped " + termIndex.getIndex()));
        }
        RaftCommand command;
        try {
            command = RaftCommand.decode(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
        } catch (IllegalArgumentException e) {
            command = null; // a malformed entry is committed like any other: it applies as a no-op on every node
        }
        WriteBatch batch = new WriteBatch();
        if (command != null && command.op() == RaftCommand.PUT) {
            batch.put(stored(command.key()), command.value());
        } else if (command != null && command.op() == RaftCommand.DELETE) {
            batch.delete(stored(command.key()));
        }
        batch.put(APPLIED_KEY, ByteBuffer.allocate(16).putLong(termIndex.getTerm()).putLong(termIndex.getIndex()).array());
        db.write(batch, APPLY);
        updateLastAppliedTermIndex(termIndex);
        return CompletableFuture.completedFuture(Message.valueOf(command == null ? "malformed" : "ok"));
    }

    /**
     * Ratis reports entries that are not the state machine's (configuration, no-ops) here, including, after a
     * restart, ones at or below the index the engine already holds: the applied index never moves back.
     */
    @Override
    public void notifyTermIndexUpdated(long term, long index) {
        if (index > appliedIndex()) {
            super.notifyTermIndexUpdated(term, index);
        }
    }

    /** A read: GET returns the value (empty message with a leading 0 byte when absent, 1 + value when present). */
    @Override
    public CompletableFuture<Message> query(Message request) {
        try {
            RaftCommand command = RaftCommand.decode(request.getContent().asReadOnlyByteBuffer());
            if (command.op() != RaftCommand.GET) {
                throw new IllegalArgumentException("only GET is a query");
            }
            byte[] value = db.get(stored(command.key()));
            ByteBuffer out = ByteBuffer.allocate(1 + (value == null ? 0 : value.length));
            out.put((byte) (value == null ? 0 : 1));
            if (value != null) {
                out.put(value);
            }
            return CompletableFuture.completedFuture(Message.valueOf(out.flip()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    static byte[] stored(byte[] key) {
        byte[] k = new byte[key.length + 1];
        k[0] = USER_PREFIX;
        System.arraycopy(key, 0, k, 1, key.length);
        return k;
    }

    /** The node's engine (for status and tests); reads through it bypass Raft (stale). */
    public Db db() {
        return db;
    }

    @Override
    public void close() throws IOException {
        super.close();
        Db d = db;
        if (d != null) {
            d.close();
        }
    }
}
