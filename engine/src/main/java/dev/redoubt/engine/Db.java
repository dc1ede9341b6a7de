package dev.redoubt.engine;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.wal.Durability;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * An embedded, crash-safe key-value database (DESIGN.md section 6).
 *
 * <pre>{@code
 * try (Db db = Db.open(Path.of("data"))) {
 *     db.put(key, value);                 // returns once durable (SYNC by default)
 *     byte[] v = db.get(key);             // null when absent
 *     db.write(new WriteBatch().put(a, x).delete(b));  // atomic across crashes
 *     try (DbIterator it = db.scan(from, to)) { while (it.hasNext()) { KeyValue kv = it.next(); } }
 * }
 * }</pre>
 *
 * <p>Write path: a batch is one WAL record; the WAL's group-commit leader hands each record, in LSN order and
 * after its fsync, to this Db's applier, which inserts the batch into the active memtable (one writer) and
 * publishes its last sequence. A full memtable is switched to immutable at a record boundary and flushed to a
 * level-0 table in the background; the manifest then records the checkpoint LSN and older WAL segments are
 * removed. Reads take a reference-counted {@link SuperVersion} and look in the memtables, then level 0 newest
 * first, then one table per deeper level.
 *
 * <p>Failures: after a failed WAL write or fsync, or a failed background flush or compaction, nothing more is
 * acknowledged: every write, flush and compaction throws a {@link StorageException} ({@link ErrorCode#FAILED}, or
 * {@link ErrorCode#NO_SPACE} when the disk was full) saying what failed, also once the disk is healthy again, and
 * {@link DbStats#failure()} says the same. Reads keep working. Close and reopen: recovery reads what is really on
 * disk and keeps every acknowledged write. A failed fsync is never retried (the kernel may have dropped the data
 * and would report success the second time).
 *
 * <p>Thread-safety: every public method may be called from any number of threads.
 */
public final class Db implements AutoCloseable {
    private final Path dir;
    private final DbOptions options;
    private final AutoCloseable lock;
    private final DbEngine engine;

    private Db(Path dir, DbOptions options, AutoCloseable lock, DbEngine engine) {
        this.dir = dir;
        this.options = options;
        this.lock = lock;
        this.engine = engine;
    }

    /** Opens (recovering) or creates the database in {@code dir} with default options. */
    public static Db open(Path dir) {
        return open(FileStorageEnv.INSTANCE, dir, DbOptions.defaults());
    }

    public static Db open(Path dir, DbOptions options) {
        return open(FileStorageEnv.INSTANCE, dir, options);
    }

    /**
     * Opens the database in {@code dir}, creating it only if the directory is missing or empty (or holds only what
     * a creation cut short by a crash left behind: no CURRENT, no table, no WAL segment). A non-empty
     * directory that is not a Redoubt database, or a database without its CURRENT file, is refused with a
     * message saying what to do; a directory held by another open Db fails with {@link ErrorCode#LOCKED}.
     */
    public static Db open(StorageEnv env, Path dir, DbOptions options) {
        options.validate();
        DbLayout layout = DbLayout.inspect(env, dir);
        if (layout == DbLayout.NEW && options.readOnly()) {
            throw new StorageException(ErrorCode.INVALID_STATE, dir + " holds no database, and a read-only open cannot create one");
        }
        AutoCloseable lock = null;
        try {
            if (layout == DbLayout.NEW) {
                env.createDirectories(dir);
            }
            lock = env.lock(dir.resolve(DbFiles.LOCK));
            DbEngine engine = DbEngine.open(env, dir, options, layout == DbLayout.NEW);
            return new Db(dir, options, lock, engine);
        } catch (IOException e) {
            closeQuietly(lock);
            throw StorageException.fromIo("opening the database in " + dir, e);
        } catch (RuntimeException | Error e) {
            closeQuietly(lock);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already failing
            }
        }
    }

    // ------------------------------------------------------------------------------------------ writes

    /**
     * One reusable batch per thread for single puts and deletes: the batch is copied into the log before
     * {@link #write} returns, so it can be cleared and reused at once.
     */
    private static final ThreadLocal<WriteBatch> SINGLE = ThreadLocal.withInitial(WriteBatch::new);

    /** Sets {@code key} to {@code value}; returns once the write is as durable as the Db's default. */
    public void put(byte[] key, byte[] value) {
        writeSingle(SINGLE.get().clear().put(key, value), defaultWriteOptions());
    }

    public void put(byte[] key, byte[] value, WriteOptions writeOptions) {
        writeSingle(SINGLE.get().clear().put(key, value), writeOptions);
    }

    /**
     * Sets the key in {@code key}'s remaining bytes to {@code value}'s (heap or direct buffers, positions left
     * where they were): the bytes go from the buffers into the log with no array made on the way (rocksdbjni's
     * {@code put(ByteBuffer, ByteBuffer)}).
     */
    public void put(ByteBuffer key, ByteBuffer value) {
        writeSingle(SINGLE.get().clear().put(key, value), defaultWriteOptions());
    }

    public void put(ByteBuffer key, ByteBuffer value, WriteOptions writeOptions) {
        writeSingle(SINGLE.get().clear().put(key, value), writeOptions);
    }

    /** Removes the key in {@code key}'s remaining bytes. */
    public void delete(ByteBuffer key) {
        writeSingle(SINGLE.get().clear().delete(key), defaultWriteOptions());
    }

    /** Removes {@code key}. */
    public void delete(byte[] key) {
        writeSingle(SINGLE.get().clear().delete(key), defaultWriteOptions());
    }

    public void delete(byte[] key, WriteOptions writeOptions) {
        writeSingle(SINGLE.get().clear().delete(key), writeOptions);
    }

    private void writeSingle(WriteBatch batch, WriteOptions writeOptions) {
        try {
            write(batch, writeOptions);
        } finally {
            if (batch.encodedBytes() > 64 * 1024) {
                SINGLE.remove(); // do not keep a large value's buffer alive in every thread that wrote one
            }
        }
    }

    private WriteOptions defaultWriteOptions() {
        return options.durability() == Durability.SYNC ? WriteOptions.SYNC : WriteOptions.ASYNC;
    }

    /** The hooks the replication module uses (LSNs, raw log, replica appends, epochs); not for applications. */
    public ReplicationPort replication() {
        if (options.readOnly()) {
            throw new StorageException(ErrorCode.INVALID_STATE, "a database opened read-only cannot replicate");
        }
        return new ReplicationPort(engine);
    }

    /** Applies the batch atomically: after a crash, all of it or none of it. */
    public void write(WriteBatch batch) {
        write(batch, defaultWriteOptions());
    }

    public void write(WriteBatch batch, WriteOptions writeOptions) {
        if (batch.count() == 0) {
            return;
        }
        engine.write(batch, writeOptions.durability());
    }

    // ------------------------------------------------------------------------------------------ reads

    /** The value of {@code key}, or null when absent. */
    public byte[] get(byte[] key) {
        return engine.get(key, DbEngine.LATEST);
    }

    /**
     * Looks up the key in {@code key}'s remaining bytes and copies its value into {@code into} from its position,
     * as much as fits (rocksdbjni's {@code get(ByteBuffer, ByteBuffer)}): returns the value's full length, or -1
     * when the key is absent. {@code into}'s position is left where it was and its limit set just past the bytes
     * written; a result larger than what was written means {@code into} was too small (call again with a buffer of
     * that size). The key's position is left where it was.
     */
    public int get(ByteBuffer key, ByteBuffer into) {
        byte[] k = new byte[key.remaining()];
        key.get(key.position(), k);
        byte[] value = engine.get(k, DbEngine.LATEST);
        if (value == null) {
            return -1;
        }
        int n = Math.min(value.length, into.remaining());
        into.put(into.position(), value, 0, n);
        into.limit(into.position() + n);
        return value.length;
    }

    /** The value of {@code key} as of {@code snapshot}. */
    public byte[] get(byte[] key, Snapshot snapshot) {
        return engine.get(key, snapshot.sequence());
    }

    /**
     * The values of {@code keys}, in their order (null where absent), all read at one point in time: a batch
     * written meanwhile is seen whole or not at all (rocksdbjni's {@code multiGetAsList}).
     */
    public java.util.List<byte[]> multiGet(java.util.List<byte[]> keys) {
        return engine.multiGet(keys, DbEngine.LATEST);
    }

    /** As {@link #multiGet(java.util.List)}, as of {@code snapshot}. */
    public java.util.List<byte[]> multiGet(java.util.List<byte[]> keys, Snapshot snapshot) {
        return engine.multiGet(keys, snapshot.sequence());
    }

    /** Keys in {@code [fromInclusive, toExclusive)} in unsigned byte order (null bound = unbounded). Close it. */
    public DbIterator scan(byte[] fromInclusive, byte[] toExclusive) {
        return engine.scan(fromInclusive, toExclusive, DbEngine.LATEST);
    }

    public DbIterator scan(byte[] fromInclusive, byte[] toExclusive, Snapshot snapshot) {
        return engine.scan(fromInclusive, toExclusive, snapshot.sequence());
    }

    /** A consistent view of the data as of now, kept until closed. */
    public Snapshot snapshot() {
        return engine.newSnapshot(this);
    }

    void releaseSnapshot(long sequence) {
        engine.releaseSnapshot(sequence);
    }

    // ------------------------------------------------------------------------------------------ maintenance

    /** Writes the memtable to a table and records a new checkpoint; returns when it is durable. */
    public void flush() {
        engine.flush();
    }

    /** Compacts until no level is over its target (for tests and tools; compaction also runs by itself). */
    public void compact() {
        engine.compactUntilQuiet();
    }

    /**
     * Writes a consistent copy of the database to {@code target} (which must not exist or be empty) that
     * {@link #open} accepts: flushes, then hard-links the live tables and writes a manifest naming them.
     */
    public void checkpoint(Path target) {
        engine.checkpoint(target);
    }

    /** What open found and replayed. */
    public DbRecoveryReport recoveryReport() {
        return engine.recoveryReport();
    }

    /**
     * The largest batch this database takes, as {@link WriteBatch#encodedBytes()}: one WAL record, bounded by the
     * WAL segment size ({@link DbOptions#walSegmentBytes}). A larger batch is refused by {@link #write}.
     */
    public int maxBatchBytes() {
        return engine.maxBatchBytes();
    }

    public DbStats stats() {
        return engine.stats();
    }

    public Path directory() {
        return dir;
    }

    /** Stops background work, syncs the WAL and releases the directory. Unflushed memtables are in the WAL. */
    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            closeQuietly(lock);
        }
    }
}
