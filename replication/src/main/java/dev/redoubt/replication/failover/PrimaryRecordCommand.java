package dev.redoubt.replication.failover;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One change proposed to a {@link PrimaryRecord}, as a Raft log entry of the pair's failover group.
 *
 * <pre>
 * Encoding (big-endian):
 *   0   u8   kind: 1 RENEW, 2 TAKEOVER, 3 PROMOTE
 *   1   u64  epoch                    RENEW: the holder's epoch; TAKEOVER, PROMOTE: the new epoch
 *   9   u64  observed renewal index   TAKEOVER: the renewal the proposer saw go stale; else 0
 *   17  u16  holder length H          1 .. 64
 *   19  H    holder id, UTF-8         RENEW: the renewing holder; TAKEOVER, PROMOTE: the new holder
 * </pre>
 * Nothing may follow. Decoding treats the bytes as hostile (an entry could come from a damaged log).
 */
public record PrimaryRecordCommand(Kind kind, long epoch, long observedRenewalIndex, String holder) {
    public enum Kind {
        RENEW(1), TAKEOVER(2), PROMOTE(3);

        final int code;

        Kind(int code) {
            this.code = code;
        }
    }

    private static final int FIXED_BYTES = 1 + 8 + 8 + 2;

    public PrimaryRecordCommand {
        int h = holder.getBytes(StandardCharsets.UTF_8).length;
        if (h < 1 || h > PrimaryRecord.MAX_HOLDER_BYTES) {
            throw new IllegalArgumentException("holder id of " + h + " bytes, outside 1.." + PrimaryRecord.MAX_HOLDER_BYTES);
        }
        if (epoch < 0 || observedRenewalIndex < 0) {
            throw new IllegalArgumentException("negative epoch or index");
        }
    }

    public static PrimaryRecordCommand renew(long epoch, String holder) {
        return new PrimaryRecordCommand(Kind.RENEW, epoch, 0, holder);
    }

    public static PrimaryRecordCommand takeover(long newEpoch, String holder, long observedRenewalIndex) {
        return new PrimaryRecordCommand(Kind.TAKEOVER, newEpoch, observedRenewalIndex, holder);
    }

    public static PrimaryRecordCommand promote(long newEpoch, String holder) {
        return new PrimaryRecordCommand(Kind.PROMOTE, newEpoch, 0, holder);
    }

    public byte[] encode() {
        byte[] h = holder.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(FIXED_BYTES + h.length).put((byte) kind.code).putLong(epoch)
                .putLong(observedRenewalIndex).putShort((short) h.length).put(h).array();
    }

    /** Decodes {@link #encode}'s bytes; anything else is an {@link IllegalArgumentException} saying what. */
    public static PrimaryRecordCommand decode(ByteBuffer bytes) {
        ByteBuffer b = bytes.slice();
        if (b.remaining() < FIXED_BYTES + 1 || b.remaining() > FIXED_BYTES + PrimaryRecord.MAX_HOLDER_BYTES) {
            throw new IllegalArgumentException("a primary record command is " + (FIXED_BYTES + 1) + ".."
                    + (FIXED_BYTES + PrimaryRecord.MAX_HOLDER_BYTES) + " bytes, not " + b.remaining());
        }
        int code = b.get() & 0xFF;
        Kind kind = null;
        for (Kind k : Kind.values()) {
            if (k.code == code) {
                kind = k;
            }
        }
        if (kind == null) {
            throw new IllegalArgumentException("unknown primary record command kind " + code);
        }
        long epoch = b.getLong();
        long observed = b.getLong();
        int h = b.getShort() & 0xFFFF;
        if (h != b.remaining()) {
            throw new IllegalArgumentException("holder length " + h + " but " + b.remaining() + " bytes follow");
        }
        byte[] holder = new byte[h];
        b.get(holder);
        return new PrimaryRecordCommand(kind, epoch, observed, new String(holder, StandardCharsets.UTF_8));
    }
}
