package dev.redoubt.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pair nemesis' acceptance check ({@link PairNemesisTest#olderEpochAcceptedLater}) on made-up histories. */
class AcceptanceCheckTest {
    @Test
    void tenuresOneAfterAnotherPass() {
        List<long[]> acks = new ArrayList<>(List.of(
                new long[] {1, 0, 10}, new long[] {1, 20, 30},
                new long[] {2, 40, 50}, new long[] {2, 60, 70},
                new long[] {3, 80, 90}));
        assertThat(PairNemesisTest.olderEpochAcceptedLater(acks)).isNull();
    }

    @Test
    void callsOverlappingAtAHandOverCannotBePlacedAndPass() {
        // epoch 1's last call began before epoch 2's first ended: either could have been accepted first
        List<long[]> acks = new ArrayList<>(List.of(new long[] {1, 0, 100}, new long[] {2, 50, 60}));
        assertThat(PairNemesisTest.olderEpochAcceptedLater(acks)).isNull();
    }

    @Test
    void anOlderEpochAcceptingAfterANewerOneIsCaughtEvenTwoEpochsBack() {
        List<long[]> acks = new ArrayList<>(List.of(
                new long[] {1, 0, 10}, new long[] {2, 20, 30}, new long[] {3, 40, 50},
                new long[] {1, 35, 36})); // epoch 1 began at 35, after epoch 2's ack ended at 30
        assertThat(PairNemesisTest.olderEpochAcceptedLater(acks)).contains("epoch 1").contains("epoch 2");
    }
}
