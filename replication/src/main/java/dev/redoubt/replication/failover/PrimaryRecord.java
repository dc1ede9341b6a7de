package dev.redoubt.replication.failover;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Who may be primary of a node pair, at which epoch, kept by the pair's failover group (docs/pair-failover.md).
 * Changed only by {@link PrimaryRecordCommand}s applied in log order ({@link #apply}); every member applies the
 * same commands to the same record, so every member holds the same record.
 *
 * <pre>
 * Encoding (a snapshot file's whole content; big-endian):
 *   0   u32  magic 0x52445052 ("RDPR")
 *   4   u16  format version (1)
 *   6   u64  epoch                 >= 0
 *   14  u32  lease millis          1 .. 600 000
 *   18  u64  renewal index         the Raft index of the holder's last renewal or takeover; >= 0
 *   26  u16  holder length H       0 .. 64 (0: no holder yet)
 *   28  H    holder id, UTF-8
 *   28+H u32 CRC32C of bytes 0 .. 28+H
 * </pre>
 *
 * @param epoch          the fencing token: the node that holds the record serves at this epoch
 * @param holder         the node id that may be primary in this epoch; empty before the first promotion
 * @param leaseMillis    the lease the holder promised to honour after each renewal
 * @param renewalIndex   the Raft index of the holder's latest renewal (or of the takeover/promotion that made
 *                       it holder): a takeover must name it, so a renewal that commits first wins
 */
public record PrimaryRecord(long epoch, String holder, int leaseMillis, long renewalIndex) {
    static final int MAGIC = 0x52445052;
    static final int FORMAT_VERSION = 1;
    public static final int MAX_HOLDER_BYTES = 64;
    public static final int MAX_LEASE_MILLIS = 600_000;
    public static final int DEFAULT_LEASE_MILLIS = 10_000;
    private static final int FIXED_BYTES = 4 + 2 + 8 + 4 + 8 + 2 + 4;

    public PrimaryRecord {
        if (epoch < 0 || renewalIndex < 0) {
            throw new IllegalArgumentException("negative epoch " + epoch + " or renewal index " + renewalIndex);
        }
        if (leaseMillis < 1 || leaseMillis > MAX_LEASE_MILLIS) {
            throw new IllegalArgumentException("lease of " + leaseMillis + " ms outside 1.." + MAX_LEASE_MILLIS);
        }
        if (holder.getBytes(StandardCharsets.UTF_8).length > MAX_HOLDER_BYTES) {
            throw new IllegalArgumentException("holder id '" + holder + "' over " + MAX_HOLDER_BYTES + " bytes");
        }
    }

    /** The record of a new group: epoch 0, nobody holds it. */
    public static PrimaryRecord initial(int leaseMillis) {
        return new PrimaryRecord(0, "", leaseMillis, 0);
    }

    public boolean hasHolder() {
        return !holder.isEmpty();
    }

    /**
     * The record after {@code command} committed at Raft index {@code index}, with why it was refused if it was
     * (then the record is unchanged). Deterministic: a function of the record, the command and the index only.
     */
    public Outcome apply(PrimaryRecordCommand command, long index) {
        return switch (command.kind()) {
            case RENEW -> command.epoch() == epoch && command.holder().equals(holder) && hasHolder()
                    ? accepted(new PrimaryRecord(epoch, holder, leaseMillis, index))
                    : refused("renewal by " + command.holder() + " at epoch " + command.epoch() + " but the record"
                    + " names " + describeHolder() + " at epoch " + epoch);
            case TAKEOVER -> {
                if (command.epoch() != epoch + 1) {
                    yield refused("takeover at epoch " + command.epoch() + " but the next epoch is " + (epoch + 1));
                }
                if (command.holder().equals(holder)) {
                    yield refused("takeover by " + command.holder() + ", which already holds epoch " + epoch);
                }
                if (command.observedRenewalIndex() != renewalIndex) {
                    yield refused("takeover by " + command.holder() + " observed the renewal at index "
                            + command.observedRenewalIndex() + " but " + describeHolder() + " renewed at index "
                            + renewalIndex + " since: its lease may still hold");
                }
                yield accepted(new PrimaryRecord(epoch + 1, command.holder(), leaseMillis, index));
            }
            // A promotion may skip epochs: a pair that ran without the record may already serve at a later
            // epoch than the record's, and the record must follow the nodes' epoch histories, never lag them.
            case PROMOTE -> command.epoch() > epoch
                    ? accepted(new PrimaryRecord(command.epoch(), command.holder(), leaseMillis, index))
                    : refused("promotion at epoch " + command.epoch() + " but the record is at epoch " + epoch
                    + " already: a promotion needs a newer one");
        };
    }

    private String describeHolder() {
        return hasHolder() ? holder : "no holder";
    }

    private Outcome accepted(PrimaryRecord next) {
        return new Outcome(next, null);
    }

    private Outcome refused(String why) {
        return new Outcome(this, why);
    }

    /** What a command did: the record after it, and null or why it was refused. */
    public record Outcome(PrimaryRecord record, String refusal) {
        public boolean accepted() {
            return refusal == null;
        }
    }

    public byte[] encode() {
        byte[] h = holder.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(FIXED_BYTES + h.length);
        b.putInt(MAGIC).putShort((short) FORMAT_VERSION).putLong(epoch).putInt(leaseMillis).putLong(renewalIndex)
                .putShort((short) h.length).put(h);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** Decodes {@link #encode}'s bytes; anything else is an {@link IllegalArgumentException} saying what. */
    public static PrimaryRecord decode(byte[] bytes) {
        if (bytes.length < FIXED_BYTES || bytes.length > FIXED_BYTES + MAX_HOLDER_BYTES) {
            throw new IllegalArgumentException("a primary record is " + FIXED_BYTES + ".." + (FIXED_BYTES + MAX_HOLDER_BYTES)
                    + " bytes, not " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.getInt() != MAGIC) {
            throw new IllegalArgumentException("not a primary record (bad magic)");
        }
        int version = b.getShort() & 0xFFFF;
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException("primary record format " + version + ", this build reads " + FORMAT_VERSION);
        }
        long epoch = b.getLong();
        int lease = b.getInt();
        long renewal = b.getLong();
        int h = b.getShort() & 0xFFFF;
        if (h > MAX_HOLDER_BYTES || h != bytes.length - FIXED_BYTES) {
            throw new IllegalArgumentException("holder length " + h + " does not fit a record of " + bytes.length + " bytes");
        }
        byte[] holder = new byte[h];
        b.get(holder);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, b.position());
        if (b.getInt() != (int) crc.getValue()) {
            throw new IllegalArgumentException("primary record checksum mismatch");
        }
        return new PrimaryRecord(epoch, new String(holder, StandardCharsets.UTF_8), lease, renewal);
    }
}
