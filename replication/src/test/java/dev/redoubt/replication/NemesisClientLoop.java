package dev.redoubt.replication;

import dev.redoubt.testsupport.linearizability.HistoryRecorder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client of the nemesis tests ({@code RaftNemesisTest}, {@link PairNemesisTest}): until stopped, puts unique
 * values ({@code p<process>-<n>}) to random keys or reads one, half and half, recording every call in the history.
 * A put that fails is a timeout (it may or may not have taken effect); a read that fails has no effect.
 */
public final class NemesisClientLoop {
    /** The store under test, as the loop sees it. */
    public interface Store {
        /** Returns normally only once the write is acknowledged. */
        void put(String key, String value) throws Exception;

        /** The value, or null when absent. */
        String get(String key) throws Exception;

        /** A store whose client speaks bytes: keys and values are the strings' UTF-8. */
        static Store ofBytes(BytePut put, ByteGet get) {
            return new Store() {
                @Override
                public void put(String key, String value) throws Exception {
                    put.put(utf8(key), utf8(value));
                }

                @Override
                public String get(String key) throws Exception {
                    byte[] v = get.get(utf8(key));
                    return v == null ? null : new String(v, StandardCharsets.UTF_8);
                }
            };
        }
    }

    /** A put of a byte-speaking client. */
    public interface BytePut {
        void put(byte[] key, byte[] value) throws Exception;
    }

    /** A get of a byte-speaking client: the value or null. */
    public interface ByteGet {
        byte[] get(byte[] key) throws Exception;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Told of every acknowledged write and every answered call, with the history's operation id. */
    public interface Listener {
        void acknowledged(int op, boolean write);
    }

    private NemesisClientLoop() {
    }

    public static void run(int process, long seed, String[] keys, Store store, HistoryRecorder recorder,
                           AtomicBoolean stop, Listener listener) {
        Random random = new Random(seed);
        int sequence = 0;
        while (!stop.get()) {
            String key = keys[random.nextInt(keys.length)];
            if (random.nextBoolean()) {
                String value = "p" + process + "-" + sequence++;
                int op = recorder.invokePut(process, key, value);
                try {
                    store.put(key, value);
                    recorder.ok(op);
                    listener.acknowledged(op, true);
                } catch (Exception e) {
                    recorder.timeout(op);
                }
            } else {
                int op = recorder.invokeGet(process, key);
                try {
                    recorder.okRead(op, store.get(key));
                    listener.acknowledged(op, false);
                } catch (Exception e) {
                    recorder.fail(op);
                }
            }
        }
    }
}
