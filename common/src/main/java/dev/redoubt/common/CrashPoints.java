package dev.redoubt.common;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Named points in production code where a crash test can make the process die on the spot (Ratis's
 * {@code CodeInjectionForTesting}, LevelDB's fault points). A child process started with
 * {@code -Dredoubt.crashpoint=<name>:<n>} halts the JVM ({@link Runtime#halt}, no shutdown hooks, no flushing:
 * like {@code kill -9}) at the n-th time it reaches the point named, after printing
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
    private static final String ARMED_NAME;
    private static final long ARMED_AT;
    /** Whether a point is armed in this process. */
    public static final boolean ARMED;
    private static final AtomicLong HITS = new AtomicLong();

    static {
        String spec = System.getProperty(PROPERTY);
        String name = null;
        long at = 0;
        if (spec != null && !spec.isBlank()) {
            int colon = spec.lastIndexOf(':');
            name = colon < 0 ? spec : spec.substring(0, colon);
            at = colon < 0 ? 1 : Long.parseLong(spec.substring(colon + 1));
        }
        ARMED_NAME = name;
        ARMED_AT = at;
        ARMED = name != null && at > 0;
    }

    private CrashPoints() {
    }

    /** Marks a crash point; halts the process here if it is the armed point's n-th hit. */
    public static void hit(String name) {
        if (ARMED && ARMED_NAME.equals(name) && HITS.incrementAndGet() == ARMED_AT) {
            System.out.println("CRASHPOINT " + name);
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
