package dev.redoubt.tool;

/**
 * LSNs on the command line and in output: one notation, the plain decimal byte position in the log stream
 * ({@code 0}, {@code 1048576}); the same number the WAL segment file names carry zero-padded. Ranges of
 * numbers are written {@code MIN..MAX}.
 */
final class Lsn {
    private Lsn() {
    }

    /** Parses a non-negative decimal LSN; {@link ExitCodes#USAGE} otherwise. */
    static long parse(String text, String option) {
        if (text == null || text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw CliException.usage(option + ": \"" + text + "\" is not an LSN (a decimal byte position, e.g. 1048576)");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw CliException.usage(option + ": \"" + text + "\" is out of range for an LSN");
        }
    }

    /** A range {@code MIN..MAX} of non-negative decimal numbers with {@code MIN <= MAX}. */
    static long[] parseRange(String text, String option) {
        int dots = text == null ? -1 : text.indexOf("..");
        if (dots < 0) {
            throw CliException.usage(option + ": \"" + text + "\" is not a range (write MIN..MAX, e.g. 100..800)");
        }
        long min = parse(text.substring(0, dots), option);
        long max = parse(text.substring(dots + 2), option);
        if (min > max) {
            throw CliException.usage(option + ": the range " + text + " is empty (MIN must not exceed MAX)");
        }
        return new long[] {min, max};
    }
}
