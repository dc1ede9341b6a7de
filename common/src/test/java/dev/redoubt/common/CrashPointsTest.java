package dev.redoubt.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a crash point is armed: at its n-th hit, or at each hit with a seeded probability. */
class CrashPointsTest {

    @Test
    void aCountArmsTheNthHitOnly() {
        CrashPoints.Arming a = CrashPoints.Arming.parse("table.written:3");
        assertEquals("table.written", a.name());
        assertFalse(a.halts(1));
        assertFalse(a.halts(2));
        assertTrue(a.halts(3));
        assertFalse(a.halts(4));
        assertTrue(CrashPoints.Arming.parse("current.renamed").halts(1));
        assertNull(CrashPoints.Arming.parse(" "));
    }

    @Test
    void aProbabilityHaltsAboutThatOftenAndTheSeedReplaysTheDraws() {
        List<Boolean> first = draws("wal.group.before-fsync:p=0.25,seed=42");
        assertEquals(first, draws("wal.group.before-fsync:p=0.25,seed=42"));
        long halts = first.stream().filter(b -> b).count();
        assertTrue(halts > 2_000 && halts < 3_000, "about a quarter of 10,000 hits, got " + halts);
        assertTrue(draws("x:p=1").stream().allMatch(b -> b));
    }

    @Test
    void aMalformedSpecNamesTheAcceptedForms() {
        for (String bad : new String[] {"x:0", "x:p=0", "x:p=1.5", "x:p=abc", "x:three", "x:p=0.5,seed=z"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CrashPoints.Arming.parse(bad));
            assertTrue(e.getMessage().contains("<name>:p=<probability>"), e.getMessage());
        }
    }

    private static List<Boolean> draws(String spec) {
        CrashPoints.Arming a = CrashPoints.Arming.parse(spec);
        List<Boolean> out = new ArrayList<>();
        for (int hit = 1; hit <= 10_000; hit++) {
            out.add(a.halts(hit));
        }
        return out;
    }
}
