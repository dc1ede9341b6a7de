package dev.redoubt.engine;

import java.nio.file.Path;

/**
 * Owns the names in a data directory (DESIGN.md section 3):
 * <pre>
 * LOCK                  held with a file lock while a Db is open
 * CURRENT               names the live manifest; replaced by write-temp + fsync + rename + fsync(dir)
 * MANIFEST-&lt;6 digits&gt;    append-only log of version edits
 * wal/                  write-ahead log segments (see dev.redoubt.wal)
 * sst/&lt;6 digits&gt;.sst     immutable tables; written as .sst.tmp, renamed when complete
 * lost/                 bytes recoveries and repairs set aside (never deleted by Redoubt)
 * </pre>
 */
final class DbFiles {
    static final String LOCK = "LOCK";
    static final String CURRENT = "CURRENT";
    static final String CURRENT_TEMP = "CURRENT.tmp";
    static final String MANIFEST_PREFIX = "MANIFEST-";
    static final String SST_DIR = "sst";
    static final String SST_SUFFIX = ".sst";
    static final String TEMP_SUFFIX = ".tmp";
    /** File numbers have at most this many digits (they fit in a long). */
    static final int MAX_NUMBER_DIGITS = 18;

    private DbFiles() {
    }

    static String manifestName(long number) {
        return MANIFEST_PREFIX + String.format("%06d", number);
    }

    static Path sstPath(Path dir, long number) {
        return dir.resolve(SST_DIR).resolve(String.format("%06d", number) + SST_SUFFIX);
    }

    static Path sstTempPath(Path dir, long number) {
        return dir.resolve(SST_DIR).resolve(String.format("%06d", number) + SST_SUFFIX + TEMP_SUFFIX);
    }

    /** The number of a table file name, or -1 if the name is not a table's. */
    static long sstNumber(Path file) {
        String name = file.getFileName().toString();
        if (!name.endsWith(SST_SUFFIX)) {
            return -1;
        }
        return parseNumber(name.substring(0, name.length() - SST_SUFFIX.length()));
    }

    /** The number of a manifest file name, or -1. */
    static long manifestNumber(String name) {
        return name.startsWith(MANIFEST_PREFIX) ? parseNumber(name.substring(MANIFEST_PREFIX.length())) : -1;
    }

    private static long parseNumber(String digits) {
        if (digits.isEmpty() || digits.length() > MAX_NUMBER_DIGITS) {
            return -1;
        }
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(digits);
    }
}
