package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Sends the writes of every thread of a client as few Raft entries as it can: the writes that are waiting when a
 * send may start travel together as one {@link RaftWriteBatch} (one entry: one append, one fsync per member, one
 * replication round), {@value #MAX_BATCHES_IN_FLIGHT} entry in flight at a time through Ratis' async API
 * (ordered). So a lone writer pays one round trip per write, and many writers share each round.
 *
 * <p>Guarantees: writes are committed in the order they were submitted, with one exception: a batch the state
 * machine refuses (larger than the engine takes, say) is sent again write by write, so that only the write at
 * fault fails, and those writes may then commit after writes submitted later. A thread that waits for each write
 * (as {@link RaftKvClient#put} does) therefore never sees its writes reordered. Each future completes with the
 * Raft index of the entry that carried its write, once that entry is committed and applied by the leader, or
 * fails with the reason. Ratis' retry cache applies an entry once even when its send is retried.
 *
 * <p>Bounds: a batch holds at most {@value RaftWriteBatch#MAX_WRITES} writes and about {@value #MAX_BATCH_BYTES}
 * bytes; at most {@value #MAX_PENDING_WRITES} writes wait (a submitter beyond that blocks until one is done).
 *
 * <p>Threads: one thread at a time sends (the one that set {@code draining}), so that entries leave in the order
 * they were formed: a submitter that finds no send running and room in flight sends itself, and a send that an
 * answer makes possible runs on {@code sendExecutor}, never on the Ratis thread that delivered the answer (that
 * thread holds Ratis' sliding window, which a send takes too). No send is made while holding {@code lock}: an
 * answer waiting for {@code lock} while holding the window would otherwise deadlock with it.
 *
 * <p>Thread-safe. {@code lock} guards {@code waiting}, {@code inFlight} and {@code draining}.
 */
final class RaftWriteBatcher implements AutoCloseable {
    /**
     * One entry in flight: the writes that arrive while it commits wait and go together in the next, as in a
     * group commit. On the 2-core benchmark machine (three member JVMs), 4 entries in flight gave half the writes/s
     * of 1 at 8 and 32 writers and a slower lone writer: each entry costs the members CPU (gRPC, Ratis' threads,
     * the apply), so more, smaller entries cost more than the overlap of rounds gains (docs/raft-design.md).
     */
    static final int MAX_BATCHES_IN_FLIGHT = 1;
    static final int MAX_BATCH_BYTES = 1 << 20;
    static final int MAX_PENDING_WRITES = 1 << 16;

    private final EntrySender sender;
    private final Executor sendExecutor;
    private final Runnable onClose;
    private final Object lock = new Object();
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private final Semaphore room = new Semaphore(MAX_PENDING_WRITES);
    private int inFlight;
    private boolean draining;

    /** Sends one encoded entry; the future gives the index that committed it, or fails with why not. */
    interface EntrySender {
        CompletableFuture<Long> send(ByteBuffer entry);
    }

    /** {@code sendExecutor} runs every send, one at a time; {@code onClose} stops it. */
    RaftWriteBatcher(EntrySender sender, Executor sendExecutor, Runnable onClose) {
        this.sender = sender;
        this.sendExecutor = sendExecutor;
        this.onClose = onClose;
    }

    /**
     * Sends through the async API (ordered) of a client from {@code newClient}, from a thread of its own
     * ({@code redoubt-raft-writes}); a reply that is no success fails with its exception. A send that fails for
     * any other reason than the state machine's refusal (no leader within the retries, a timeout) leaves Ratis'
     * ordered window failed for every later send, so the client is replaced by a new one for the next entries.
     */
    static RaftWriteBatcher over(Supplier<RaftClient> newClient) {
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "redoubt-raft-writes");
            t.setDaemon(true);
            return t;
        });
        AtomicReference<RaftClient> current = new AtomicReference<>(newClient.get());
        EntrySender sender = entry -> {
            RaftClient c = current.get();
            return c.async().send(Message.valueOf(ByteString.copyFrom(entry))).handle((reply, error) -> {
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                if (cause == null && !reply.isSuccess()) {
                    cause = reply.getException() != null ? reply.getException()
                            : new StorageException(ErrorCode.FAILED, "the Raft group did not commit the write: " + reply);
                }
                if (cause == null) {
                    return reply.getLogIndex();
                }
                if (!(cause instanceof StateMachineException) && current.get() == c) {
                    RaftClient fresh = newClient.get();
                    // the loser of two replacements of one failed client closes its own new one
                    closeOn(thread, current.compareAndSet(c, fresh) ? c : fresh);
                }
                throw new CompletionException(cause);
            });
        };
        return new RaftWriteBatcher(sender, thread, () -> {
            thread.shutdown();
            closeQuietly(current.get());
        });
    }

    /** Closes a replaced client on the send thread, never on Ratis' own thread that reported its failure. */
    private static void closeOn(ExecutorService thread, RaftClient c) {
        try {
            thread.execute(() -> closeQuietly(c));
        } catch (RejectedExecutionException closed) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(RaftClient c) {
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            // a replaced or last client: nothing waits for it any more
        }
    }

    private record Pending(RaftCommand write, CompletableFuture<Long> index) {
    }

    /** Queues {@code write} (a PUT or DELETE); the future gives the Raft index that committed it. */
    CompletableFuture<Long> submit(RaftCommand write) {
        if (!RaftWriteBatch.isWrite(write.op())) {
            throw new IllegalArgumentException("only PUT and DELETE are writes, not op " + write.op());
        }
        room.acquireUninterruptibly();
        Pending p = new Pending(write, new CompletableFuture<>());
        p.index.whenComplete((i, e) -> room.release());
        boolean start;
        synchronized (lock) {
            waiting.add(p);
            start = startDrainLocked();
        }
        if (start) {
            drain(); // on this thread: a lone writer's entry leaves without a hand-off
        }
        return p.index;
    }

    /** REQUIRES lock. Whether a drain must be started: writes wait, an entry may start, and none runs. */
    private boolean startDrainLocked() {
        assert Thread.holdsLock(lock) : "REQUIRES lock";
        if (draining || waiting.isEmpty() || inFlight >= MAX_BATCHES_IN_FLIGHT) {
            return false;
        }
        draining = true;
        return true;
    }

    private void drainLater() {
        try {
            sendExecutor.execute(this::drain);
        } catch (RejectedExecutionException e) { // closed: fail what waits
            List<Pending> left;
            synchronized (lock) {
                left = new ArrayList<>(waiting);
                waiting.clear();
                draining = false;
            }
            for (Pending p : left) {
                p.index.completeExceptionally(new StorageException(ErrorCode.CLOSED, "the Raft client is closed"));
            }
        }
    }

    /** On the send thread: sends entries while writes wait and fewer than the maximum are in flight. */
    private void drain() {
        while (true) {
            List<Pending> batch;
            synchronized (lock) {
                if (waiting.isEmpty() || inFlight >= MAX_BATCHES_IN_FLIGHT) {
                    draining = false;
                    return;
                }
                batch = takeBatchLocked();
                inFlight++;
            }
            send(encode(batch)).whenComplete((index, e) -> {
                complete(batch, index, e);
                boolean start;
                synchronized (lock) {
                    inFlight--;
                    start = startDrainLocked();
                }
                if (start) {
                    drainLater();
                }
            });
        }
    }

    /** REQUIRES lock. The longest prefix of the waiting writes that fits one entry. */
    private List<Pending> takeBatchLocked() {
        assert Thread.holdsLock(lock) : "REQUIRES lock";
        List<Pending> batch = new ArrayList<>();
        int bytes = 0;
        while (!waiting.isEmpty() && batch.size() < RaftWriteBatch.MAX_WRITES) {
            int next = RaftWriteBatch.encodedBytes(waiting.peek().write());
            if (!batch.isEmpty() && bytes + next > MAX_BATCH_BYTES) {
                break;
            }
            batch.add(waiting.poll());
            bytes += next;
        }
        return batch;
    }

    private CompletableFuture<Long> send(ByteBuffer entry) {
        try {
            return sender.send(entry);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static ByteBuffer encode(List<Pending> batch) {
        List<RaftCommand> writes = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            writes.add(p.write());
        }
        return new RaftWriteBatch(writes).encode();
    }

    private void complete(List<Pending> batch, Long index, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause == null) {
            for (Pending p : batch) {
                p.index.complete(index);
            }
        } else if (cause instanceof StateMachineException && batch.size() > 1) {
            // refused before the log: only the write at fault should fail, so each goes again on its own
            try {
                sendExecutor.execute(() -> {
                    for (Pending p : batch) {
                        send(p.write().encode()).whenComplete((i, e) -> complete(List.of(p), i, e));
                    }
                });
            } catch (RejectedExecutionException closed) {
                batch.forEach(p -> p.index.completeExceptionally(cause));
            }
        } else {
            for (Pending p : batch) {
                p.index.completeExceptionally(cause);
            }
        }
    }

    /** Stops the send thread; writes still waiting fail, writes in flight complete as Ratis answers them. */
    @Override
    public void close() {
        onClose.run();
        drainLater(); // rejected now: fails what waits
    }
}
