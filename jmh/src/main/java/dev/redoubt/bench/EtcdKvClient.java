package dev.redoubt.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One jetcd {@link Client} over the members of an etcd group ({@link EtcdGroup#endpoints()}), with the two calls
 * the Raft benchmark compares: a put that returns once etcd acknowledged it (committed on a majority and applied
 * by the member that answered), and a linearizable get.
 *
 * <p>Every call gives up after {@link #CALL_TIMEOUT} with an {@link IOException} saying so. Thread-safe (jetcd's
 * client is), but the benchmark gives each thread its own, as independent application threads would have.
 */
public final class EtcdKvClient implements AutoCloseable {
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    /**
     * {@code serializable=false}: a linearizable read, served only after the member confirmed with a quorum that
     * it has applied everything committed when the read arrived (etcd's ReadIndex). It is jetcd's default too; it
     * is spelled out here because a serializable read (local, possibly stale) would not be the same guarantee as
     * Redoubt's linearizable {@code RaftKvClient.get}.
     */
    private static final GetOption LINEARIZABLE = GetOption.builder().withSerializable(false).build();

    private final Client client;
    private final KV kv;
    private final String endpoints;

    private EtcdKvClient(Client client, String endpoints) {
        this.client = client;
        this.kv = client.getKVClient();
        this.endpoints = endpoints;
    }

    /** A client of the members at {@code endpoints} (client URLs, e.g. {@code http://127.0.0.1:2379}). */
    public static EtcdKvClient connect(List<String> endpoints) {
        Client c = Client.builder().endpoints(endpoints.toArray(String[]::new)).connectTimeout(CALL_TIMEOUT).build();
        return new EtcdKvClient(c, String.join(",", endpoints));
    }

    /** Puts; returns once etcd acknowledged the write (committed on a majority, fsynced there, applied). */
    public void put(byte[] key, byte[] value) throws IOException {
        await("put", kv.put(ByteSequence.from(key), ByteSequence.from(value)));
    }

    /** A linearizable read (see {@link #LINEARIZABLE}): the value, or null when absent. */
    public byte[] get(byte[] key) throws IOException {
        GetResponse r = await("get", kv.get(ByteSequence.from(key), LINEARIZABLE));
        return r.getKvs().isEmpty() ? null : r.getKvs().get(0).getValue().getBytes();
    }

    private <T> T await(String call, CompletableFuture<T> f) throws IOException {
        try {
            return f.get(CALL_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("etcd " + call + " not answered within " + CALL_TIMEOUT.toSeconds() + " s ("
                    + endpoints + ")", e);
        } catch (ExecutionException e) {
            throw new IOException("etcd " + call + " failed (" + endpoints + "): " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted during an etcd " + call);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
