package dev.redoubt.common;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Named points in production code where a crash test can make the process die on the spot (Ratis's
 * {@code CodeInjectionForTesting}, LevelDB's fault points). A child process started with
 * {@code -Dredoubt.crashpoint=<name>:<n>} halts the JVM ({@link Runtime#halt}, no shutdown hooks, no flushing:
 * like {@code kill -9}) at the n-th time it reaches the point named, or with
 * {@code -Dredoubt.crashpoint=<name>:p=<probability>[,seed=<seed>]} at each time with that probability, after printing
 * {@code CRASHPOINT <name>} on standard output so the parent can count what it covered.
 *
 * <p>Disabled (the property absent) a point costs nothing: {@link #ARMED} is a constant the JIT folds away.
 */
public final class CrashPoints {
    public static final String WAL_BEFORE_WRITE = "wal.group.before-write";
    public static final String WAL_BEFORE_FSYNC = "wal.group.before-fsync";
    public static final String WAL_AFTER_FSYNC = "wal.group.after-fsync";
    public static final String WAL_ROLL_BEFORE_RENAME = "wal.roll.before-rename";
    public static final String WAL_ROLL_AFTER_RENAME = "wal.roll.after-rename";
    public static final String WAL_TRUNCATE_AFTER_DELETE = "wal.truncate.after-delete";
    public static final String TABLE_WRITTEN = "table.written";
    public static final String TABLE_RENAMED = "table.renamed";
    public static final String MANIFEST_APPENDED = "manifest.appended";
    public static final String MANIFEST_CREATED = "manifest.created";
    public static final String CURRENT_TEMP_WRITTEN = "current.temp-written";
    public static final String CURRENT_RENAMED = "current.renamed";
    public static final String FLUSH_BEFORE_WAL_TRUNCATE = "flush.before-wal-truncate";
    public static final String COMPACTION_INPUT_DELETED = "compaction.input-deleted";

    /** Every point, for crash tests that must reach each one. */
    public static final String[] ALL = {WAL_BEFORE_WRITE, WAL_BEFORE_FSYNC, WAL_AFTER_FSYNC, WAL_ROLL_BEFORE_RENAME,
            WAL_ROLL_AFTER_RENAME, WAL_TRUNCATE_AFTER_DELETE, TABLE_WRITTEN, TABLE_RENAMED, MANIFEST_APPENDED,
            MANIFEST_CREATED, CURRENT_TEMP_WRITTEN, CURRENT_RENAMED, FLUSH_BEFORE_WAL_TRUNCATE, COMPACTION_INPUT_DELETED};

    public static final String PROPERTY = "redoubt.crashpoint";
    private static final Arming ARMING = Arming.parse(System.getProperty(PROPERTY));
    /** Whether a point is armed in this process. */
    public static final boolean ARMED = ARMING != null;

    /**
     * Which point halts, and when: {@code <name>:<n>} at its n-th hit (n defaults to 1), or
     * {@code <name>:p=<probability>[,seed=<seed>]} at each hit with that probability, the draws seeded so a run
     * replays. A malformed spec is an {@link IllegalArgumentException} naming the accepted forms.
     */
    record Arming(String name, long nthHit, double probability, java.util.SplittableRandom random) {
        static Arming parse(String spec) {
            if (spec == null || spec.isBlank()) {
                return null;
            }
            int colon = spec.indexOf(':');
            String name = colon < 0 ? spec : spec.substring(0, colon);
            String when = colon < 0 ? "1" : spec.substring(colon + 1);
            try {
                if (!when.startsWith("p=")) {
                    long n = Long.parseLong(when);
                    if (n < 1) {
                        throw new NumberFormatException("n must be >= 1");
                    }
                    return new Arming(name, n, 0, null);
                }
                String[] parts = when.substring(2).split(",seed=");
                double p = Double.parseDouble(parts[0]);
                if (!(p > 0 && p <= 1)) {
                    throw new NumberFormatException("the probability must be in (0, 1]");
                }
                long seed = parts.length > 1 ? Long.parseLong(parts[1]) : System.nanoTime();
                return new Arming(name, 0, p, new java.util.SplittableRandom(seed));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + spec + " is not <name>:<n> or"
                        + " <name>:p=<probability>[,seed=<seed>] (" + e.getMessage() + ")", e);
            }
        }

        /** Whether this hit (the {@code hits}-th of the armed point) halts. */
        synchronized boolean halts(long hits) {
            return random == null ? hits == nthHit : random.nextDouble() < probability;
        }
    }

    private static final AtomicLong HITS = new AtomicLong();

    private CrashPoints() {
    }

    /** Marks a crash point; halts the process here if it is the armed point's n-th hit. */
    public static void hit(String name) {
        if (ARMED && ARMING.name().equals(name) && ARMING.halts(HITS.incrementAndGet())) {
            System.out.println("CRASHPOINT " + name);
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
