package dev.redoubt.replication.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The lease arithmetic on both sides, on clocks the test drives (docs/pair-failover.md, "Leases and clocks"). */
class LeaseTest {
    private static final LeaseClock CLOCK = LeaseClock.of(10_000); // drift 10%, margin 500 ms

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void aHolderAcceptsWritesForNinetyPercentOfTheLeaseLessTheMarginAfterTheRenewalItSent() {
        HolderLease lease = new HolderLease(CLOCK);
        assertThat(lease.mayAcceptWrites(0)).as("before any renewal").isFalse();
        lease.renewed(ms(1_000));
        assertThat(lease.mayAcceptWrites(ms(1_000 + 8_499))).isTrue();
        assertThat(lease.mayAcceptWrites(ms(1_000 + 8_500))).isFalse();
        lease.renewed(ms(500)); // an older renewal committing late does not shorten it
        assertThat(lease.mayAcceptWrites(ms(1_000 + 8_499))).isTrue();
        lease.renewed(ms(3_000));
        assertThat(lease.mayAcceptWrites(ms(3_000 + 8_499))).isTrue();
        lease.deposed();
        assertThat(lease.mayAcceptWrites(ms(3_001))).isFalse();
        lease.renewed(ms(4_000));
        assertThat(lease.mayAcceptWrites(ms(4_001))).as("deposed for good").isFalse();
    }

    @Test
    void aStandbyProposesATakeoverOnlyAfterTheSameRenewalStayedForElevenTenthsOfTheLeasePlusTheMargin() {
        StandbyWatch watch = new StandbyWatch("b", CLOCK);
        assertThat(watch.takeoverDue(ms(100_000))).as("nothing seen").isNull();
        watch.observed(PrimaryRecord.initial(10_000), 0);
        assertThat(watch.takeoverDue(ms(100_000))).as("nobody holds it").isNull();
        PrimaryRecord held = new PrimaryRecord(3, "a", 10_000, 40);
        watch.observed(held, ms(5_000));
        watch.observed(held, ms(9_000)); // the same renewal again: the wait keeps its start
        assertThat(watch.takeoverDue(ms(5_000 + 11_499))).isNull();
        assertThat(watch.takeoverDue(ms(5_000 + 11_500))).isEqualTo(PrimaryRecordCommand.takeover(4, "b", 40));
        watch.observed(new PrimaryRecord(3, "a", 10_000, 41), ms(17_000)); // a renewed: wait again
        assertThat(watch.takeoverDue(ms(17_000 + 11_499))).isNull();
        watch.observed(new PrimaryRecord(4, "b", 10_000, 50), ms(30_000));
        assertThat(watch.takeoverDue(ms(100_000))).as("b holds it itself").isNull();
    }

    @Test
    void withClocksWithinTheDriftBoundTheTakeoverComesAfterTheHoldersLeaseEnded() {
        // Worst case: the holder's clock runs 10% slow (its lease lasts longest in real time), the standby's 10%
        // fast (its wait ends soonest), and the standby sees the renewal at the very instant it was sent.
        double holderRate = 0.9;
        double standbyRate = 1.1;
        long sent = 0;
        double holderLeaseEndsReal = (CLOCK.holderValidUntil(sent) - sent) / holderRate;
        double takeoverFromReal = (CLOCK.standbyMayTakeOverFrom(sent) - sent) / standbyRate;
        assertThat(takeoverFromReal).isGreaterThan(holderLeaseEndsReal);
    }

    @Test
    void aLeaseTooShortForTheDriftAndMarginIsRefused() {
        assertThatThrownBy(() -> new LeaseClock(500, 0.1, 500)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leaves nothing");
    }
}
