package dev.redoubt.bench;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.WriteOptions;
import dev.redoubt.replication.raft.RaftKvClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What a {@link RaftHarness} load thread uses of the system it measures: its own client's acknowledged put and
 * linearizable get, over a Redoubt group ({@link RaftKvClient}), an etcd group ({@link EtcdKvClient}) or the
 * single-node baseline (a shared {@link Db}, every put {@code SYNC}).
 */
interface RaftBenchClient extends AutoCloseable {
    void put(byte[] key, byte[] value) throws IOException;

    /** The value, or null. */
    byte[] get(byte[] key) throws IOException;

    @Override
    void close() throws IOException;

    static RaftBenchClient of(RaftKvClient client) {
        return of(client::put, client::get, client::close);
    }

    static RaftBenchClient of(EtcdKvClient client) {
        return of(client::put, client::get, client::close);
    }

    /** Puts with {@code SYNC}; closing leaves {@code db} open (it is shared, and its opener's). */
    static RaftBenchClient syncPuts(Db db) {
        return of((k, v) -> db.put(k, v, WriteOptions.SYNC), db::get, () -> { });
    }

    /** A client made of its three calls. */
    static RaftBenchClient of(Put put, Get get, Close close) {
        return new RaftBenchClient() {
            @Override
            public void put(byte[] key, byte[] value) throws IOException {
                put.put(key, value);
            }

            @Override
            public byte[] get(byte[] key) throws IOException {
                return get.get(key);
            }

            @Override
            public void close() throws IOException {
                close.close();
            }
        };
    }

    interface Put {
        void put(byte[] key, byte[] value) throws IOException;
    }

    interface Get {
        byte[] get(byte[] key) throws IOException;
    }

    interface Close {
        void close() throws IOException;
    }

    /**
     * {@code client} after a first call (a get of {@code key}), so that it has connected and found the leader
     * before a load's clock starts; closed if that fails.
     */
    static RaftBenchClient connected(RaftBenchClient client, String key) throws IOException {
        try {
            client.get(key.getBytes(StandardCharsets.UTF_8));
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }
}
