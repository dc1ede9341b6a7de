package dev.redoubt.wal;

import java.nio.file.Path;

/**
 * Owns the WAL's file names. A live segment is {@code <20-digit base LSN>.wal}: zero-padded so that
 * {@code ls} lists them in LSN order. A segment being preallocated is {@code <base>.wal.prealloc} and is
 * renamed to its live name only when the log rolls into it; a crash leaves at most a {@code .prealloc}
 * file, which the next open deletes.
 */
public final class SegmentFiles {
    public static final String SEGMENT_SUFFIX = ".wal";
    public static final String PREALLOC_SUFFIX = ".wal.prealloc";
    static final int DIGITS = 20;

    private SegmentFiles() {
    }

    public static String segmentName(long baseLsn) {
        return String.format("%020d", baseLsn) + SEGMENT_SUFFIX;
    }

    public static Path segmentPath(Path walDir, long baseLsn) {
        return walDir.resolve(segmentName(baseLsn));
    }

    public static Path preallocPath(Path walDir, long baseLsn) {
        return walDir.resolve(String.format("%020d", baseLsn) + PREALLOC_SUFFIX);
    }

    /** The base LSN named by a live segment file, or -1 if the name is not one. */
    public static long parseSegmentBase(Path file) {
        return parse(file.getFileName().toString(), SEGMENT_SUFFIX);
    }

    static boolean isPrealloc(Path file) {
        return parse(file.getFileName().toString(), PREALLOC_SUFFIX) >= 0;
    }

    private static long parse(String name, String suffix) {
        if (name.length() != DIGITS + suffix.length() || !name.endsWith(suffix)) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < DIGITS; i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
            if (value < 0) {
                return -1;
            }
        }
        return value;
    }
}
