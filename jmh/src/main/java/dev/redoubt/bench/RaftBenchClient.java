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
        return new RaftBenchClient() {
            @Override
            public void put(byte[] key, byte[] value) throws IOException {
                client.put(key, value);
            }

            @Override
            public byte[] get(byte[] key) throws IOException {
                return client.get(key);
            }

            @Override
            public void close() throws IOException {
                client.close();
            }
        };
    }

    static RaftBenchClient of(EtcdKvClient client) {
        return new RaftBenchClient() {
            @Override
            public void put(byte[] key, byte[] value) throws IOException {
                client.put(key, value);
            }

            @Override
            public byte[] get(byte[] key) throws IOException {
                return client.get(key);
            }

            @Override
            public void close() {
                client.close();
            }
        };
    }

    /** Puts with {@code SYNC}; closing leaves {@code db} open (it is shared, and its opener's). */
    static RaftBenchClient syncPuts(Db db) {
        return new RaftBenchClient() {
            @Override
            public void put(byte[] key, byte[] value) {
                db.put(key, value, WriteOptions.SYNC);
            }

            @Override
            public byte[] get(byte[] key) {
                return db.get(key);
            }

            @Override
            public void close() {
            }
        };
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
