package dev.redoubt.wal;

/**
 * One range of log bytes a recovery did not keep.
 *
 * @param fromLsn        first LSN of the range
 * @param toLsn          LSN just past the last non-zero byte dropped
 * @param bytes          bytes copied to the quarantine file
 * @param segment        file name of the segment where the range starts
 * @param offset         offset of {@code fromLsn} in that segment
 * @param kind           why it was dropped
 * @param reason         what was wrong at {@code fromLsn}
 * @param provenDurable  a later record proved these bytes had been fsynced: acknowledged data was lost
 * @param recordsAfter   valid records found after the damage (dropped with it unless the mode skipped)
 * @param quarantineFile file name under {@code lost/} holding the bytes, or null when nothing non-zero was dropped
 */
public record DroppedRange(long fromLsn, long toLsn, long bytes, String segment, long offset, Kind kind,
                           String reason, boolean provenDurable, long recordsAfter, String quarantineFile) {

    /** Why a range was dropped. */
    public enum Kind {
        /** A torn or garbage end of the log with no valid record after it. */
        TORN_TAIL,
        /** Damage with valid records after it; the mode cut the log there. */
        CUT_AT_CORRUPTION,
        /** Damage in the middle that {@link RecoveryMode#SKIP_CORRUPTED} skipped; records after it were kept. */
        SKIPPED_CORRUPTION
    }

    @Override
    public String toString() {
        return kind + " LSN " + fromLsn + ".." + toLsn + " (" + bytes + " bytes) in " + segment + " at offset "
                + offset + ": " + reason + (provenDurable ? " [ACKNOWLEDGED DATA]" : "")
                + (recordsAfter > 0 ? ", " + recordsAfter + " valid records after it" : "")
                + (quarantineFile != null ? ", quarantined in lost/" + quarantineFile : "");
    }
}
