package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.Db;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * The key space of a Raft member's engine: which engine keys hold client data and which hold the state machine's
 * own metadata, and the layout of that metadata. The first byte of every engine key says which it is, so that no
 * client write can touch the metadata and no client read sees it.
 *
 * <pre>
 * client key k (1 + k.length bytes), see {@link #stored} and {@link #userKey}:
 *   +------+-------------------+
 *   | 0x01 | k (0 or more)     |
 *   +------+-------------------+
 *    USER_PREFIX
 *
 * applied-index key (13 bytes), {@link #APPLIED_KEY}; 0x00 is the metadata prefix:
 *   +------+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+
 *   | 0x00 | 'r' | 'a' | 'f' | 't' | '.' | 'a' | 'p' | 'p' | 'l' | 'i' | 'e' | 'd' |
 *   +------+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+
 *
 * its value (16 bytes), see {@link #appliedValue} and {@link #decodeApplied}: the (term, index) of the last
 * Raft entry applied, each a big-endian signed 64-bit integer:
 *   0                8                16
 *   +----------------+----------------+
 *   | term           | index          |
 *   +----------------+----------------+
 * </pre>
 * The state machine writes the applied value in the same engine batch as the entry's client writes, so the engine
 * always holds an index prefix of the Raft log and knows which.
 *
 * <p>Stateless; every method is safe from any thread. The arrays returned are new, except {@link #APPLIED_KEY},
 * which no one may change.
 */
final class RaftKeySpace {
    /** The first byte of every stored client key. */
    static final byte USER_PREFIX = 0x01;
    /** The key under which the engine holds the (term, index) it has applied (never changed: shared). */
    static final byte[] APPLIED_KEY = {0x00, 'r', 'a', 'f', 't', '.', 'a', 'p', 'p', 'l', 'i', 'e', 'd'};
    /** The length of the applied (term, index) value. */
    static final int APPLIED_VALUE_BYTES = 2 * Long.BYTES;

    private RaftKeySpace() {
    }

    /** The engine key that holds client key {@code key}. */
    static byte[] stored(byte[] key) {
        byte[] k = new byte[key.length + 1];
        k[0] = USER_PREFIX;
        System.arraycopy(key, 0, k, 1, key.length);
        return k;
    }

    /** The client key that engine key {@code stored} holds; it must be one ({@link #stored}'s form). */
    static byte[] userKey(byte[] stored) {
        if (stored.length == 0 || stored[0] != USER_PREFIX) {
            throw new IllegalArgumentException("engine key of " + stored.length + " bytes is not a client key");
        }
        return Arrays.copyOfRange(stored, 1, stored.length);
    }

    /** The first engine key after every client key: the exclusive end of a scan over all of them. */
    static byte[] userKeysEnd() {
        return new byte[] {USER_PREFIX + 1};
    }

    /** The applied value recording {@code applied}. */
    static byte[] appliedValue(TermIndex applied) {
        return ByteBuffer.allocate(APPLIED_VALUE_BYTES).putLong(applied.getTerm()).putLong(applied.getIndex())
                .array();
    }

    /** The applied (term, index) that engine {@code d} holds, or null when it holds none (no entry applied yet). */
    static TermIndex readApplied(Db d) {
        return decodeApplied(d.get(APPLIED_KEY), d.directory());
    }

    /**
     * Decodes an applied value read from the engine in {@code dir} (null: none, so null). The bytes come from disk:
     * any other length than {@value #APPLIED_VALUE_BYTES} is damaged metadata, a CORRUPTION
     * {@link StorageException}.
     */
    static TermIndex decodeApplied(byte[] applied, Path dir) {
        if (applied == null) {
            return null;
        }
        if (applied.length != APPLIED_VALUE_BYTES) {
            throw new StorageException(ErrorCode.CORRUPTION, "the engine's applied index record has " + applied.length
                    + " bytes, not " + APPLIED_VALUE_BYTES + ": the Raft metadata in " + dir + " is damaged");
        }
        ByteBuffer b = ByteBuffer.wrap(applied);
        return TermIndex.valueOf(b.getLong(), b.getLong());
    }
}
