package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.junit.jupiter.api.Test;

/**
 * How {@link RaftWriteBatcher} cuts writes into entries, with a sender whose replies the test completes by hand:
 * which writes travel together, in which order, within which bounds, and what a refusal fails.
 */
class RaftWriteBatcherTest {
    /** Every entry sent, decoded, with the future that answers it. */
    private final List<RaftWriteBatch> sent = new ArrayList<>();
    private final List<CompletableFuture<Long>> replies = new ArrayList<>();
    private final RaftWriteBatcher batcher = new RaftWriteBatcher(this::send, Runnable::run, () -> { });

    private synchronized CompletableFuture<Long> send(ByteBuffer entry) {
        sent.add(RaftWriteBatch.decode(entry));
        CompletableFuture<Long> reply = new CompletableFuture<>();
        replies.add(reply);
        return reply;
    }

    @Test
    void writesThatWaitWhileTheEntriesInFlightAreFullTravelAsOneEntryInTheirOrder() throws Exception {
        List<CompletableFuture<Long>> done = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            done.add(batcher.submit(RaftCommand.put(key(i), key(i))));
        }
        // the first writes go alone, as long as entries may start; the rest wait
        assertThat(sent).hasSize(RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT);
        replies.get(0).complete(7L);
        assertThat(sent).hasSize(RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT + 1);
        RaftWriteBatch together = sent.get(RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT);
        assertThat(together.writes()).hasSize(100 - RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT);
        List<String> order = new ArrayList<>();
        sent.forEach(b -> b.writes().forEach(w -> order.add(new String(w.key(), StandardCharsets.UTF_8))));
        List<String> submitted = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            submitted.add(new String(key(i), StandardCharsets.UTF_8));
        }
        assertThat(order).isEqualTo(submitted);
        assertThat(done.get(0).get()).isEqualTo(7L);
        replies.get(RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT).complete(9L);
        assertThat(done.get(99).get()).isEqualTo(9L);
        CompletableFuture<Long> later = batcher.submit(RaftCommand.delete(key(100)));
        assertThat(later).isNotDone(); // its own entry has not been answered
    }

    @Test
    void anEntryHoldsAtMostItsBoundInWritesAndBytes() {
        for (int i = 0; i < RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT; i++) {
            batcher.submit(RaftCommand.delete(key(i)));
        }
        byte[] big = new byte[RaftWriteBatcher.MAX_BATCH_BYTES / 3];
        for (int i = 0; i < 4; i++) {
            batcher.submit(RaftCommand.put(key(i), big));
        }
        for (int i = 0; i < RaftWriteBatch.MAX_WRITES + 10; i++) {
            batcher.submit(RaftCommand.delete(key(i)));
        }
        replies.get(0).complete(1L);
        assertThat(sent.get(sent.size() - 1).writes()).hasSize(2); // a third big value would pass the byte bound
        replies.get(1).complete(2L);
        RaftWriteBatch full = sent.get(sent.size() - 1);
        assertThat(full.writes()).hasSize(RaftWriteBatch.MAX_WRITES); // the last two big values, and small ones
        assertThat(full.encode().remaining()).isLessThanOrEqualTo(RaftWriteBatcher.MAX_BATCH_BYTES + 5);
        replies.get(2).complete(3L);
        assertThat(sent.get(sent.size() - 1).writes()).hasSize(RaftWriteBatch.MAX_WRITES + 10 - (RaftWriteBatch.MAX_WRITES - 2));
        replies.get(3).complete(4L);
        assertThat(sent).hasSize(RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT + 3); // nothing left to send
    }

    @Test
    void aRefusedBatchIsSentAgainWriteByWriteSoOnlyTheWriteAtFaultFails() throws Exception {
        for (int i = 0; i < RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT; i++) {
            batcher.submit(RaftCommand.delete(key(i)));
        }
        CompletableFuture<Long> good = batcher.submit(RaftCommand.put(key(100), key(100)));
        CompletableFuture<Long> bad = batcher.submit(RaftCommand.put(key(101), new byte[1000]));
        replies.get(0).complete(1L);
        int batch = sent.size() - 1;
        assertThat(sent.get(batch).writes()).hasSize(2);
        replies.get(batch).completeExceptionally(new StateMachineException("refused before the log: too large"));
        assertThat(sent).hasSize(batch + 3); // each write again, alone
        replies.get(batch + 1).complete(11L);
        replies.get(batch + 2).completeExceptionally(new StateMachineException("refused before the log: too large"));
        assertThat(good.get()).isEqualTo(11L);
        assertThat(bad).isCompletedExceptionally();
        try {
            bad.get();
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(StateMachineException.class).hasMessageContaining("too large");
        }
    }

    @Test
    void aFailedEntryFailsEveryWriteInItAndTheNextEntryStillGoes() {
        for (int i = 0; i < RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT; i++) {
            batcher.submit(RaftCommand.delete(key(i)));
        }
        CompletableFuture<Long> a = batcher.submit(RaftCommand.delete(key(10)));
        CompletableFuture<Long> b = batcher.submit(RaftCommand.delete(key(11)));
        replies.get(0).complete(1L);
        CompletableFuture<Long> c = batcher.submit(RaftCommand.delete(key(12)));
        replies.get(RaftWriteBatcher.MAX_BATCHES_IN_FLIGHT).completeExceptionally(new java.io.IOException("no leader"));
        assertThat(a).isCompletedExceptionally();
        assertThat(b).isCompletedExceptionally();
        assertThat(sent.get(sent.size() - 1).writes()).singleElement()
                .satisfies(w -> assertThat(w.key()).isEqualTo(key(12)));
        assertThat(c).isNotDone();
    }

    private static byte[] key(int i) {
        return ("k" + i).getBytes(StandardCharsets.UTF_8);
    }
}
