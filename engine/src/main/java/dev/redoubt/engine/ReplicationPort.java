package dev.redoubt.engine;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.wal.Durability;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalReader;
import java.nio.ByteBuffer;
import java.util.function.LongSupplier;

/**
 * What the replication module needs from an open {@link Db}, and nothing applications should call: the LSN of
 * a write, the raw log for shipping, a backup's append of shipped records, epochs, write fencing and WAL
 * retention. A backup is "recovery that never ends": {@link #appendReplicated} writes the primary's records
 * byte for byte and applies them through the same redo path as {@code Db.open}.
 *
 * <p>Thread-safety: as {@link Db}.
 */
public final class ReplicationPort {
    private final DbEngine engine;

    ReplicationPort(DbEngine engine) {
        this.engine = engine;
    }

    /** Writes the batch locally with {@code durability} and returns its LSN (the receipt's anchor). */
    public long write(WriteBatch batch, Durability durability) {
        if (batch.count() == 0) {
            throw new IllegalArgumentException("an empty batch has no LSN");
        }
        return engine.write(batch, durability);
    }

    /** See {@link Wal#appendReplicated}: returns the new end LSN once the records are fsynced and applied. */
    public long appendReplicated(ByteBuffer chunk) {
        return engine.appendReplicated(chunk);
    }

    /** A reader of the log's stored records, padding included, from {@code fromLsn} to the written end. */
    public WalReader newRawReader(long fromLsn) {
        return engine.wal().newRawReader(fromLsn);
    }

    /** A reader of fsynced records only, padding included; kept open it follows the durable end. */
    public WalReader newDurableRawReader(long fromLsn) {
        return engine.wal().newDurableRawReader(fromLsn);
    }

    /**
     * A reader of records written to the OS, fsynced or not ({@link dev.redoubt.wal.Wal#newShippableRawReader});
     * kept open it follows that end. A primary ships from it so that its backup's fsync overlaps its own.
     */
    public WalReader newShippableRawReader(long fromLsn) {
        return engine.wal().newShippableRawReader(fromLsn);
    }

    /** The end of the records written to the OS, fsynced or not: at or above {@link #writtenLsn()}. */
    public long shippableLsn() {
        return engine.wal().shippableLsn();
    }

    /** Calls {@code listener} (quick, never appending) each time {@link #shippableLsn()} advances. */
    public void onShippable(Runnable listener) {
        engine.wal().onShippable(listener);
    }

    /** Every byte below it is written, and (the applier runs before publication) applied to the memtable. */
    public long writtenLsn() {
        return engine.wal().writtenLsn();
    }

    public long durableLsn() {
        return engine.wal().durableLsn();
    }

    /** The oldest LSN still in the log's segments. */
    public long startLsn() {
        return engine.wal().startLsn();
    }

    /** Changes below this LSN are in tables; redo starts here. */
    public long checkpointLsn() {
        return engine.versions().checkpointLsn();
    }

    /** The WAL segment size: a backup must use the primary's. */
    public int segmentBytes() {
        return engine.walSegmentBytes();
    }

    /** The epoch stamped on records written now. */
    public long epoch() {
        return engine.wal().epoch();
    }

    /** Logs an EPOCH_CHANGE record (SYNC) and returns its LSN: the fork point of the new epoch. */
    public long changeEpoch(long newEpoch) {
        return engine.wal().changeEpoch(newEpoch);
    }

    /**
     * Makes local writes fail from now on with {@code code} and {@code message} (a backup: INVALID_STATE; a
     * primary that learned of a newer epoch: FENCED); records shipped by a primary are still accepted.
     */
    public void refuseWrites(ErrorCode code, String message) {
        engine.refuseWrites(new StorageException(code, message));
    }

    /** Accepts local writes again (a promoted backup). */
    public void acceptWrites() {
        engine.refuseWrites(null);
    }

    /** A flush deletes WAL segments only below {@code floor} (and below its checkpoint). */
    public void retainWalFrom(LongSupplier floor) {
        engine.retainWalFrom(floor);
    }

    /**
     * Writes an openable copy of the database (tables, manifest, CURRENT; no WAL) to {@code target} and returns
     * its checkpoint LSN: every change below it is in the copy, none at or above it.
     */
    public long checkpoint(java.nio.file.Path target) {
        return engine.checkpoint(target);
    }

    /** The WAL segment file holding {@code lsn} (see {@link Wal#segmentContaining}). */
    public java.nio.file.Path walSegmentContaining(long lsn) {
        return engine.wal().segmentContaining(lsn);
    }

    /**
     * Offline, with the database closed (its files reached through {@code env}): makes the manifest's record of the WAL's durable end (written at each
     * clean close) at most {@code lsn}, before a replica discards its log from there ({@code Wal.truncateFrom}).
     * Done first, so a crash between the two leaves a record that is merely low, never one the log falls short of.
     */
    public static void lowerRecordedWalEnd(dev.redoubt.common.StorageEnv env, java.nio.file.Path dir, long lsn) {
        DbOptions defaults = DbOptions.defaults();
        try (VersionSet versions = VersionSet.recover(env, dir, defaults.maxLevels(), false)) {
            if (versions.walDurableLsn() > lsn) {
                VersionEdit edit = new VersionEdit();
                edit.walDurableLsn = lsn;
                versions.logAndApply(edit);
            }
        } catch (java.io.IOException e) {
            throw dev.redoubt.common.StorageException.fromIo("recording the WAL end in the manifest of " + dir, e);
        }
    }

    /** The keys a WRITE_BATCH record's payload writes or deletes (for reports of discarded records). */
    public static java.util.List<byte[]> keysOf(org.agrona.DirectBuffer payload, int offset, int length, long lsn) {
        java.util.List<byte[]> keys = new java.util.ArrayList<>();
        WriteBatchFormat.decode(payload, offset, length, lsn, (i, kind, key, value) -> keys.add(key));
        return keys;
    }

    /** Bytes held by the log's segments from {@link #startLsn()} to the written end. */
    public long retainedWalBytes() {
        return Math.max(0, writtenLsn() - startLsn());
    }
}
