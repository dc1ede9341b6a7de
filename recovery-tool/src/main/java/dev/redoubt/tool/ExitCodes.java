package dev.redoubt.tool;

import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The exit codes of every {@code redoubt} command: one table, documented in the README's CLI reference. The
 * low codes say what a command found in the data; the 64+ codes (BSD {@code sysexits.h}) say why it could not
 * run. Picocli's own default for a usage error (2) is replaced by {@link #USAGE}, so that 2 always means
 * corruption.
 */
final class ExitCodes {
    /** Clean: the command did what it was asked and found nothing wrong. */
    static final int OK = 0;
    /** Something was dropped or lost: a torn WAL tail (verify), bytes a recovery dropped, a write lost in a crash test, data a repair could not keep. */
    static final int TORN_OR_LOST = 1;
    /** Corruption: damage that recovery refuses to drop, a bad checksum, an inconsistent manifest. */
    static final int CORRUPTION = 2;
    /** {@code kv get}: the key is absent. */
    static final int NOT_FOUND = 3;
    /** Bad command line: unknown option, malformed LSN, key or range, conflicting options. */
    static final int USAGE = 64;
    /** The input is not what the command needs: not a Redoubt database, not a WAL segment or SSTable, a state the command cannot act on. */
    static final int DATA = 65;
    /** A file or directory that does not exist. */
    static final int NO_INPUT = 66;
    /** An internal error (a bug): the message says what failed; {@code --verbose} prints the stack trace. */
    static final int SOFTWARE = 70;
    /** An I/O error: an unreadable file, a full disk. */
    static final int IO = 74;
    /** The database is locked by a live process. */
    static final int LOCKED = 75;

    private ExitCodes() {
    }

    /** The exit code for an exception that ended a command. */
    static int of(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof CliException c) {
            return c.exitCode();
        }
        if (t instanceof StorageException s) {
            return switch (s.code()) {
                case CORRUPTION -> CORRUPTION;
                case LOCKED -> LOCKED;
                case IO, NO_SPACE -> cause(s) instanceof NoSuchFileException ? NO_INPUT : IO;
                case INVALID_STATE, FENCED, CLOSED -> DATA;
                case FAILED -> IO;
            };
        }
        if (t instanceof NoSuchFileException || t instanceof NotDirectoryException) {
            return NO_INPUT;
        }
        if (t instanceof AccessDeniedException || t instanceof IOException) {
            return IO;
        }
        if (t instanceof IllegalArgumentException) {
            return USAGE;
        }
        return SOFTWARE;
    }

    /** One line saying what went wrong (no stack trace). */
    static String message(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof AccessDeniedException a) {
            return a.getFile() + ": permission denied (the file is unreadable)";
        }
        if (t instanceof NoSuchFileException n) {
            return n.getFile() + ": no such file or directory";
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        if (of(t) == SOFTWARE) {
            m = "internal error: " + t.getClass().getName() + ": " + m + " (run with --verbose for the stack trace)";
        }
        return m.replace('\n', ' ');
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof UncheckedIOException || t instanceof picocli.CommandLine.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static Throwable cause(Throwable e) {
        return e.getCause() == null ? e : e.getCause();
    }
}
