package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.KeyValue;
import dev.redoubt.replication.raft.RaftTls;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An application's client of a node pair: it takes every node's address, finds the primary, and rides out a
 * failover. Reads go to the primary too (what a backup serves may lag).
 *
 * <pre>{@code
 * try (PairClient c = PairClient.connect(List.of(nodeA, nodeB), secret, PairClient.Options.defaults())) {
 *     c.put(key, value, CommitLevel.REMOTE_DURABLE);   // on whichever node is primary now
 * }
 * }</pre>
 *
 * <p>A call is tried until it succeeds, fails for a reason retrying cannot change, or its deadline
 * ({@link Options#callDeadline}, default 10 s) passes; between tries it waits with exponential backoff and
 * jitter (Resilience4j's {@code Retry}). Retried:
 * <ul>
 *   <li>a node that cannot be reached, or a connection that breaks: the client looks for the primary again;</li>
 *   <li>a write refused because the node is not the primary (a backup, or a deposed primary, {@code FENCED}):
 *       nothing was written there; the client looks for the primary again;</li>
 *   <li>no primary among the nodes yet (a backup waiting to be promoted).</li>
 * </ul>
 * Not retried: a write whose commit level timed out ({@link NodeClient.RemoteWriteException}: its receipt says
 * what it reached), a refusal by the primary itself, a protocol error.
 *
 * <p><b>Writes are retried when their outcome is unknown</b> (the connection broke after the request left):
 * a put or delete applied twice leaves the same value, so the retry is safe unless another client wrote the
 * same key in between, whose write the retry would then overwrite (a history that is then not linearizable:
 * {@code PairNemesisTest} saw a value come back after a newer one). Applications that share keys between writers
 * and cannot accept that turn it off ({@link Options#withoutRetryingUnknownWrites}): such a write then fails with
 * {@link WriteOutcomeUnknownException} and the application decides.
 *
 * <p>Each node has a circuit breaker (Resilience4j's {@code CircuitBreaker}): after repeated failures the client
 * stops trying that node for {@link Options#openWait} (default 2 s) and asks the others; then it lets one try
 * through.
 *
 * <p>Thread-safety: one call at a time (calls are synchronized); open one client per thread for concurrency.
 */
public final class PairClient implements AutoCloseable {
    /** How a {@link PairClient} waits and retries. */
    public record Options(Duration callDeadline, Duration requestTimeout, Duration firstBackoff, Duration maxBackoff,
                          Duration openWait, boolean retryUnknownWrites) {
        /** As below, retrying writes whose outcome is unknown. */
        public Options(Duration callDeadline, Duration requestTimeout, Duration firstBackoff, Duration maxBackoff,
                       Duration openWait) {
            this(callDeadline, requestTimeout, firstBackoff, maxBackoff, openWait, true);
        }

        public Options {
            for (Duration d : List.of(callDeadline, requestTimeout, firstBackoff, maxBackoff, openWait)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("every PairClient duration must be positive, got " + d);
                }
            }
            if (maxBackoff.compareTo(firstBackoff) < 0) {
                throw new IllegalArgumentException("maxBackoff " + maxBackoff + " is below firstBackoff " + firstBackoff);
            }
        }

        /**
         * A 10 s deadline per call (a failover: the primary's death noticed, the backup promoted), 5 s for a
         * node's connect and each answer (above a remote commit level's default 2 s wait), backoff from 50 ms
         * doubling up to 1 s with ±50% jitter, a node's breaker open for 2 s.
         */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofMillis(50),
                    Duration.ofSeconds(1), Duration.ofSeconds(2));
        }

        public Options withCallDeadline(Duration deadline) {
            return new Options(deadline, requestTimeout, firstBackoff, maxBackoff, openWait, retryUnknownWrites);
        }

        /** A write whose outcome is unknown fails with {@link WriteOutcomeUnknownException} instead of a retry. */
        public Options withoutRetryingUnknownWrites() {
            return new Options(callDeadline, requestTimeout, firstBackoff, maxBackoff, openWait, false);
        }
    }

    /**
     * A write that may or may not have taken effect (the connection broke after the request left) and was not
     * retried ({@link Options#withoutRetryingUnknownWrites}).
     */
    public static final class WriteOutcomeUnknownException extends IOException {
        private static final long serialVersionUID = 1L;

        WriteOutcomeUnknownException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A write refused by a node that is not the primary, or no primary found: worth another try. */
    private static final class NotPrimaryException extends IOException {
        private static final long serialVersionUID = 1L;

        NotPrimaryException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private interface Call<T> {
        T on(NodeClient primary) throws IOException;
    }

    private final List<InetSocketAddress> nodes;
    private final PeerSecret secret;
    private final RaftTls tls;
    private final Options options;
    private final Map<InetSocketAddress, CircuitBreaker> breakers = new LinkedHashMap<>();
    private final Retry retry;
    /** The deadline of the call in progress (System.nanoTime), read by the retry's predicate. */
    private long deadlineNanos;
    private NodeClient primary;
    private InetSocketAddress primaryAddress;

    private PairClient(List<InetSocketAddress> nodes, PeerSecret secret, RaftTls tls, Options options) {
        this.nodes = List.copyOf(nodes);
        this.secret = secret;
        this.tls = tls;
        this.options = options;
        CircuitBreakerConfig breakerConfig = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(4)
                .minimumNumberOfCalls(2)
                .failureRateThreshold(50)
                .waitDurationInOpenState(options.openWait())
                .permittedNumberOfCallsInHalfOpenState(1)
                .build();
        for (InetSocketAddress node : this.nodes) {
            breakers.put(node, CircuitBreaker.of("redoubt-node-" + node, breakerConfig));
        }
        this.retry = Retry.of("redoubt-pair-call", RetryConfig.custom()
                .maxAttempts(Integer.MAX_VALUE)
                .intervalFunction(IntervalFunction.ofExponentialRandomBackoff(options.firstBackoff(), 2.0, 0.5,
                        options.maxBackoff()))
                .retryOnException(e -> retriable(e) && System.nanoTime() < deadlineNanos)
                .build());
    }

    /** A client of the pair at {@code nodes} (every node, in any order); connects on the first call. */
    public static PairClient connect(List<InetSocketAddress> nodes, PeerSecret secret, Options options) {
        return connect(nodes, secret, null, options);
    }

    /** As above, over mutual TLS with the group credential {@code tls} (null: plain TCP). */
    public static PairClient connect(List<InetSocketAddress> nodes, PeerSecret secret, RaftTls tls, Options options) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("a PairClient needs the address of at least one node");
        }
        return new PairClient(nodes, secret, tls, options);
    }

    public synchronized WriteReceipt put(byte[] key, byte[] value, CommitLevel level) throws IOException {
        return call(c -> unknownOutcome(() -> refusedUnlessPrimary(() -> c.put(key, value, level))));
    }

    public synchronized WriteReceipt delete(byte[] key, CommitLevel level) throws IOException {
        return call(c -> unknownOutcome(() -> refusedUnlessPrimary(() -> c.delete(key, level))));
    }

    /** The value on the primary, or null when absent. */
    public synchronized byte[] get(byte[] key) throws IOException {
        return call(c -> c.get(key));
    }

    /**
     * The value on the primary read at {@code level} (see {@link Node#get(byte[], CommitLevel)}); a refusal because
     * the node is no longer the primary is retried on the primary, like a write's.
     */
    public synchronized byte[] get(byte[] key, CommitLevel level) throws IOException {
        return call(c -> refusedUnlessPrimary(() -> c.get(key, level)));
    }

    /** Up to {@code limit} entries of [from, to) on the primary; null = unbounded. */
    public synchronized List<KeyValue> scan(byte[] from, byte[] to, int limit) throws IOException {
        return call(c -> c.scan(from, to, limit));
    }

    /** The address of the node this client takes for the primary now, or null before the first call. */
    public synchronized InetSocketAddress primary() {
        return primaryAddress;
    }

    /** The state of a node's circuit breaker: CLOSED (used), OPEN (skipped for now), HALF_OPEN (one try). */
    public synchronized String breakerState(InetSocketAddress node) {
        CircuitBreaker b = breakers.get(node);
        if (b == null) {
            throw new IllegalArgumentException(node + " is not one of this client's nodes " + nodes);
        }
        return b.getState().name();
    }

    @Override
    public synchronized void close() {
        dropPrimary();
    }

    private <T> T call(Call<T> call) throws IOException {
        deadlineNanos = System.nanoTime() + options.callDeadline().toNanos();
        try {
            return retry.executeCheckedSupplier(() -> attempt(call));
        } catch (IOException | RuntimeException | Error e) {
            if (retriable(e)) {
                throw new IOException("no primary of the pair " + nodes + " answered within "
                        + options.callDeadline().toMillis() + " ms; the last failure: " + e.getMessage(), e);
            }
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private <T> T attempt(Call<T> call) throws IOException {
        NodeClient c = primaryClient();
        CircuitBreaker breaker = breakers.get(primaryAddress);
        long start = System.nanoTime();
        try {
            T result = call.on(c);
            breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            return result;
        } catch (NotPrimaryException e) {
            dropPrimary();
            throw e;
        } catch (ProtocolException e) {
            throw e;
        } catch (IOException e) {
            // The connection broke or timed out: the node may be dead; look for the primary again.
            breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
            dropPrimary();
            throw e;
        }
    }

    private interface PrimaryCall<T> {
        T run() throws IOException;
    }

    /**
     * A write whose connection broke after the request left: without {@link Options#retryUnknownWrites}, a
     * {@link WriteOutcomeUnknownException} that is not retried (refusals and protocol errors pass unchanged).
     */
    private <T> T unknownOutcome(PrimaryCall<T> write) throws IOException {
        try {
            return write.run();
        } catch (NotPrimaryException | ProtocolException | NodeClient.RemoteWriteException e) {
            throw e;
        } catch (IOException e) {
            if (options.retryUnknownWrites()) {
                throw e;
            }
            throw new WriteOutcomeUnknownException("the write to " + primaryAddress + " may or may not have taken"
                    + " effect (" + e.getMessage() + "); not retried", e);
        }
    }

    /** A write refused because this node is not (or no longer) the primary becomes a retriable failure. */
    private <T> T refusedUnlessPrimary(PrimaryCall<T> write) throws IOException {
        try {
            return write.run();
        } catch (NodeClient.RemoteWriteException e) {
            throw e;
        } catch (StorageException e) {
            if (e.code() == ErrorCode.FENCED || e.code() == ErrorCode.INVALID_STATE && !stillPrimary()) {
                throw new NotPrimaryException("node " + primaryAddress + " is not the primary: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** After a refusal: whether the node this client writes to still says it is the primary. */
    private boolean stillPrimary() {
        try (NodeClient fresh = NodeClient.connect(primaryAddress, secret, tls, timeoutMillis())) {
            return fresh.role() == Node.Role.PRIMARY;
        } catch (IOException e) {
            return false;
        }
    }

    /** The connection to the primary, found by asking every node whose breaker lets it be asked. */
    private NodeClient primaryClient() throws IOException {
        if (primary != null) {
            return primary;
        }
        NodeClient best = null;
        InetSocketAddress bestAddress = null;
        IOException lastFailure = null;
        for (InetSocketAddress node : nodes) {
            CircuitBreaker breaker = breakers.get(node);
            if (!breaker.tryAcquirePermission()) {
                continue;
            }
            long start = System.nanoTime();
            NodeClient c;
            try {
                c = NodeClient.connect(node, secret, tls, timeoutMillis());
                breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            } catch (IOException e) {
                breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
                lastFailure = e;
                continue;
            }
            if (c.role() == Node.Role.PRIMARY && (best == null || c.epoch() > best.epoch())) {
                if (best != null) {
                    best.close();
                }
                best = c;
                bestAddress = node;
            } else {
                c.close();
            }
        }
        if (best == null) {
            throw new NotPrimaryException("no primary among " + nodes + " (a backup waits to be promoted, or no node"
                    + " answers)" + (lastFailure == null ? "" : "; the last failure: " + lastFailure.getMessage()),
                    lastFailure);
        }
        primary = best;
        primaryAddress = bestAddress;
        return best;
    }

    private void dropPrimary() {
        if (primary != null) {
            primary.close();
            primary = null;
        }
    }

    private int timeoutMillis() {
        return (int) Math.min(Integer.MAX_VALUE, options.requestTimeout().toMillis());
    }

    private static boolean retriable(Throwable e) {
        return e instanceof IOException && !(e instanceof ProtocolException) && !(e instanceof WriteOutcomeUnknownException);
    }
}
