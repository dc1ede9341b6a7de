package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Where each epoch of a replicated database starts (PostgreSQL's timeline history): the fork LSN of every
 * promotion. A primary uses it to tell whether a backup's log is a prefix of its own: a backup at epoch e whose
 * log ends past the start of epoch e + 1 holds records the new history never had, and must rejoin.
 *
 * <pre>
 * File {@value #FILE_NAME} in the data directory, rewritten whole and atomically (temp file, fsync, rename,
 * directory fsync). Little-endian:
 *   0   u32  magic 0x48504552 ("REPH")
 *   4   u32  count n, 1 .. {@value #MAX_ENTRIES}
 *   8   n x (u64 epoch, u64 start LSN)   epochs strictly increasing, start LSNs non-decreasing
 *   8 + 16n  u32 CRC32C of bytes [0, 8 + 16n)
 * </pre>
 *
 * A missing file means the database was never promoted: one epoch, 0, from LSN 0.
 *
 * <p>Thread-safety: reads and writes are synchronized.
 */
public final class EpochHistory {
    static final String FILE_NAME = "EPOCHS";
    static final int MAGIC = 0x48504552;
    static final int MAX_ENTRIES = 1024;

    /** One epoch and the LSN of its first record. */
    public record Entry(long epoch, long startLsn) {
    }

    private final StorageEnv env;
    private final Path dir;
    private List<Entry> entries;

    private EpochHistory(StorageEnv env, Path dir, List<Entry> entries) {
        this.env = env;
        this.dir = dir;
        this.entries = entries;
    }

    static EpochHistory load(StorageEnv env, Path dir) {
        Path file = dir.resolve(FILE_NAME);
        try (StorageFile f = env.openForRead(file)) {
            long size = f.size();
            if (size < 12 || size > 12 + 16L * MAX_ENTRIES) {
                throw corrupt(file, "size " + size + " bytes is impossible");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && f.read(b.position(), b) >= 0) {
                // read fully
            }
            b.flip();
            return new EpochHistory(env, dir, decode(file, b));
        } catch (NoSuchFileException e) {
            return new EpochHistory(env, dir, List.of(new Entry(0, 0)));
        } catch (IOException e) {
            throw StorageException.fromIo("reading " + file, e);
        }
    }

    static List<Entry> decode(Path file, ByteBuffer b) {
        if (b.remaining() < 12 || b.getInt(0) != MAGIC) {
            throw corrupt(file, "bad magic");
        }
        int count = b.getInt(4);
        if (count < 1 || count > MAX_ENTRIES || b.remaining() != 12 + 16L * count) {
            throw corrupt(file, "entry count " + count + " does not match the size " + b.remaining());
        }
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().limit(8 + 16 * count));
        if ((int) crc.getValue() != b.getInt(8 + 16 * count)) {
            throw corrupt(file, "checksum mismatch at offset " + (8 + 16 * count));
        }
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new Entry(b.getLong(8 + 16 * i), b.getLong(16 + 16 * i)));
        }
        validate(out);
        return List.copyOf(out);
    }

    private static StorageException corrupt(Path file, String why) {
        return new StorageException(ErrorCode.CORRUPTION, file + ": " + why + "; it records where each epoch starts."
                + " Restore it from the primary by rejoining (`redoubt node rejoin`)");
    }

    static void validate(List<Entry> list) {
        if (list.isEmpty() || list.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException("an epoch history needs 1.." + MAX_ENTRIES + " entries, got " + list.size());
        }
        for (int i = 0; i < list.size(); i++) {
            Entry e = list.get(i);
            if (e.epoch() < 0 || e.startLsn() < 0) {
                throw new IllegalArgumentException("negative epoch or LSN in " + e);
            }
            if (i > 0 && (e.epoch() <= list.get(i - 1).epoch() || e.startLsn() < list.get(i - 1).startLsn())) {
                throw new IllegalArgumentException("epoch history out of order at " + e);
            }
        }
    }

    synchronized List<Entry> entries() {
        return entries;
    }

    synchronized long lastEpoch() {
        return entries.get(entries.size() - 1).epoch();
    }

    /** The LSN where the first epoch after {@code epoch} starts; {@link Long#MAX_VALUE} if there is none yet. */
    synchronized long endOf(long epoch) {
        for (Entry e : entries) {
            if (e.epoch() > epoch) {
                return e.startLsn();
            }
        }
        return Long.MAX_VALUE;
    }

    /**
     * The epoch a log ending at {@code end} is in: its last record's ({@code walEpoch}), or a later one this
     * history says began before {@code end} (right after a bootstrap the log may hold no record of it yet).
     */
    synchronized long epochAt(long end, long walEpoch) {
        long epoch = walEpoch;
        for (Entry e : entries) {
            if (e.startLsn() < end) {
                epoch = Math.max(epoch, e.epoch());
            }
        }
        return epoch;
    }

    /** Fills {@code f} with a HISTORY frame of these entries (see {@link Frame}). */
    synchronized FrameBuilder toFrame(FrameBuilder f) {
        f.start(FrameType.HISTORY).u16(entries.size());
        for (Entry e : entries) {
            f.u64(e.epoch()).u64(e.startLsn());
        }
        return f;
    }

    /** Whether {@code epoch} is one of this history's epochs (a backup's epoch must be). */
    synchronized boolean contains(long epoch) {
        return entries.stream().anyMatch(e -> e.epoch() == epoch);
    }

    /** Records that {@code epoch} starts at {@code startLsn} (a promotion); durable when this returns. */
    synchronized void append(long epoch, long startLsn) {
        List<Entry> next = new ArrayList<>(entries);
        next.add(new Entry(epoch, startLsn));
        replace(next);
    }

    /** Adopts {@code list} (a backup taking its primary's history); durable when this returns. */
    synchronized void replace(List<Entry> list) {
        validate(list);
        if (list.equals(entries)) {
            return;
        }
        write(list);
        entries = List.copyOf(list);
    }

    private void write(List<Entry> list) {
        ByteBuffer b = ByteBuffer.allocate(12 + 16 * list.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(list.size());
        for (Entry e : list) {
            b.putLong(e.epoch()).putLong(e.startLsn());
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        b.flip();
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        try {
            try (StorageFile f = env.openForWrite(tmp)) {
                f.truncate(0);
                f.write(0, b);
                f.force();
            }
            env.rename(tmp, dir.resolve(FILE_NAME));
            env.syncDirectory(dir);
        } catch (IOException e) {
            throw StorageException.fromIo("writing " + dir.resolve(FILE_NAME), e);
        }
    }
}
