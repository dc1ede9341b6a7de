package dev.redoubt.replication.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The rules of the pair's primary record and its encodings (docs/pair-failover.md). */
class PrimaryRecordTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @Test
    void theFirstPromotionNamesAHolderWhoAloneMayRenewAtItsEpoch() {
        PrimaryRecord r = PrimaryRecord.initial(10_000);
        assertThat(r.apply(PrimaryRecordCommand.renew(0, "a"), 1).accepted()).as("nobody holds epoch 0").isFalse();
        r = accept(r, PrimaryRecordCommand.promote(1, "a"), 2);
        assertThat(r).isEqualTo(new PrimaryRecord(1, "a", 10_000, 2));
        r = accept(r, PrimaryRecordCommand.renew(1, "a"), 3);
        assertThat(r.renewalIndex()).isEqualTo(3);
        assertThat(r.apply(PrimaryRecordCommand.renew(1, "b"), 4).refusal()).contains("renewal by b");
        assertThat(r.apply(PrimaryRecordCommand.renew(0, "a"), 4).accepted()).as("an older epoch").isFalse();
        assertThat(r.apply(PrimaryRecordCommand.promote(1, "b"), 4).refusal()).contains("needs a newer one");
        assertThat(r.apply(PrimaryRecordCommand.promote(3, "b"), 4).record())
                .as("a promotion may skip epochs to catch up with the nodes' own")
                .isEqualTo(new PrimaryRecord(3, "b", 10_000, 4));
    }

    @Test
    void aTakeoverWinsOnlyIfNoRenewalCommittedSinceTheOneItSawGoStale() {
        PrimaryRecord r = accept(PrimaryRecord.initial(10_000), PrimaryRecordCommand.promote(1, "a"), 5);
        r = accept(r, PrimaryRecordCommand.renew(1, "a"), 9);
        // b saw the renewal at index 9 go stale; meanwhile a renewed again at index 12.
        PrimaryRecord renewedAgain = accept(r, PrimaryRecordCommand.renew(1, "a"), 12);
        PrimaryRecord.Outcome late = renewedAgain.apply(PrimaryRecordCommand.takeover(2, "b", 9), 13);
        assertThat(late.accepted()).isFalse();
        assertThat(late.refusal()).contains("renewed at index 12").contains("lease may still hold");
        assertThat(late.record()).isSameAs(renewedAgain);
        // Without that renewal the takeover commits: epoch 2, b holds it, and a's renewals are refused from now on.
        PrimaryRecord taken = accept(r, PrimaryRecordCommand.takeover(2, "b", 9), 13);
        assertThat(taken).isEqualTo(new PrimaryRecord(2, "b", 10_000, 13));
        assertThat(taken.apply(PrimaryRecordCommand.renew(1, "a"), 14).accepted()).isFalse();
        assertThat(taken.apply(PrimaryRecordCommand.takeover(3, "b", 13), 14).refusal()).contains("already holds");
        assertThat(taken.apply(PrimaryRecordCommand.takeover(2, "a", 13), 14).refusal()).contains("next epoch is 3");
    }

    @Test
    void recordsCommandsAndRepliesRoundTrip() {
        PrimaryRecord r = new PrimaryRecord(7, "node-b", 12_345, 99);
        assertThat(PrimaryRecord.decode(r.encode())).isEqualTo(r);
        assertThat(PrimaryRecord.decode(PrimaryRecord.initial(5).encode())).isEqualTo(PrimaryRecord.initial(5));
        for (PrimaryRecordCommand c : new PrimaryRecordCommand[] {PrimaryRecordCommand.renew(3, "a"),
                PrimaryRecordCommand.takeover(4, "b", 77), PrimaryRecordCommand.promote(5, "witness-free")}) {
            assertThat(PrimaryRecordCommand.decode(ByteBuffer.wrap(c.encode()))).isEqualTo(c);
        }
        PrimaryRecord.Outcome refused = r.apply(PrimaryRecordCommand.renew(1, "x"), 100);
        assertThat(PrimaryRecordStateMachine.decodeReply(ByteBuffer.wrap(PrimaryRecordStateMachine.encodeReply(refused))))
                .isEqualTo(refused);
        PrimaryRecord.Outcome ok = r.apply(PrimaryRecordCommand.renew(7, "node-b"), 100);
        assertThat(PrimaryRecordStateMachine.decodeReply(ByteBuffer.wrap(PrimaryRecordStateMachine.encodeReply(ok))))
                .isEqualTo(ok);
    }

    @Test
    void damagedOrHostileBytesAreRefusedWithAnIllegalArgumentNeverAnotherException() {
        byte[] good = new PrimaryRecord(7, "node-b", 12_345, 99).encode();
        byte[] command = PrimaryRecordCommand.takeover(4, "b", 77).encode();
        Random random = new Random(SEED);
        try {
            decodeMutations(good, command, random);
        } catch (RuntimeException e) {
            throw new AssertionError("seed " + SEED + " (replay: -Dredoubt.seed=" + SEED + "): " + e, e);
        }
        byte[] flipped = good.clone();
        flipped[10] ^= 1;
        assertThatThrownBy(() -> PrimaryRecord.decode(flipped)).as("seed %d", SEED)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("checksum");
        assertThatThrownBy(() -> PrimaryRecordCommand.decode(ByteBuffer.wrap(new byte[] {9, 0, 0})))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Decodes mutated copies; an {@link IllegalArgumentException} is a refusal, anything else escapes. */
    private static void decodeMutations(byte[] good, byte[] command, Random random) {
        for (int i = 0; i < 20_000; i++) {
            byte[] r = mutate(good, random);
            byte[] c = mutate(command, random);
            try {
                PrimaryRecord.decode(r);
            } catch (IllegalArgumentException expected) {
                // refused, saying why
            }
            try {
                PrimaryRecordCommand.decode(ByteBuffer.wrap(c));
            } catch (IllegalArgumentException expected) {
                // refused
            }
            try {
                PrimaryRecordStateMachine.decodeReply(ByteBuffer.wrap(mutate(PrimaryRecordStateMachine.encodeReply(
                        new PrimaryRecord.Outcome(PrimaryRecord.decode(good), "why")), random)));
            } catch (IllegalArgumentException expected) {
                // refused
            }
        }
    }

    private static PrimaryRecord accept(PrimaryRecord r, PrimaryRecordCommand c, long index) {
        PrimaryRecord.Outcome o = r.apply(c, index);
        assertThat(o.refusal()).as("%s on %s", c, r).isNull();
        return o.record();
    }

    /** A copy with a few bytes changed, cut short or extended. */
    private static byte[] mutate(byte[] in, Random random) {
        byte[] out;
        switch (random.nextInt(3)) {
            case 0 -> out = java.util.Arrays.copyOf(in, random.nextInt(in.length + 1));
            case 1 -> out = java.util.Arrays.copyOf(in, in.length + 1 + random.nextInt(8));
            default -> out = in.clone();
        }
        for (int k = random.nextInt(3); k >= 0 && out.length > 0; k--) {
            out[random.nextInt(out.length)] = (byte) random.nextInt(256);
        }
        return out;
    }
}
