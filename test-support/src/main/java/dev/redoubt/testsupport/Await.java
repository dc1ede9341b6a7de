package dev.redoubt.testsupport;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Waiting in tests for a condition another thread or process brings about: polls every 10 ms and fails with
 * what it waited for after the deadline (a generous bound on a stuck system, never a timing assertion).
 */
public final class Await {
    private Await() {
    }

    /** Polls {@code condition} until it holds; an {@link AssertionError} naming {@code what} after 60 s. */
    public static void until(BooleanSupplier condition, String what) throws InterruptedException {
        until(condition, what, 60);
    }

    public static void until(BooleanSupplier condition, String what, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + seconds + " s waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }
}
