package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.Db;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input table: each case gets exactly one line on stderr, its documented exit code, and no stack trace
 * unless --verbose.
 */
class BadInputTest {
    @TempDir
    static Path tmp;

    static Path db;
    static Path notDb;
    static Path file;

    @BeforeEach
    void fixtures() throws Exception {
        if (db == null || !Files.exists(db)) {
            db = Cli.database(tmp.resolve("db"), 500);
            notDb = Files.createDirectories(tmp.resolve("photos"));
            Files.writeString(notDb.resolve("cat.jpg"), "meow");
            file = Files.writeString(tmp.resolve("plain.txt"), "not a table");
        }
    }

    static Stream<Arguments> cases() {
        String missing = "/nonexistent/redoubt-data";
        return Stream.of(
                // a missing directory or file
                Arguments.of(List.of("db", "inspect", missing), ExitCodes.NO_INPUT, "no such directory"),
                Arguments.of(List.of("db", "verify", missing), ExitCodes.NO_INPUT, "no such directory"),
                Arguments.of(List.of("db", "recover", missing), ExitCodes.NO_INPUT, "no such directory"),
                Arguments.of(List.of("db", "repair", missing), ExitCodes.NO_INPUT, "no such directory"),
                Arguments.of(List.of("wal", "dump", missing), ExitCodes.NO_INPUT, "no such directory"),
                Arguments.of(List.of("wal", "verify", missing), ExitCodes.NO_INPUT, "no such directory"),
                Arguments.of(List.of("kv", "get", missing, "k"), ExitCodes.NO_INPUT, "no such directory"),
                Arguments.of(List.of("sst", "verify", missing + "/000001.sst"), ExitCodes.NO_INPUT, "no such file"),
                // not a Redoubt database / not the right kind of file
                Arguments.of(List.of("db", "inspect", "@notDb"), ExitCodes.DATA, "not a Redoubt database"),
                Arguments.of(List.of("db", "verify", "@notDb"), ExitCodes.DATA, "not a Redoubt database"),
                Arguments.of(List.of("db", "repair", "@notDb"), ExitCodes.DATA, "not a Redoubt database"),
                Arguments.of(List.of("kv", "scan", "@notDb"), ExitCodes.DATA, "not a Redoubt database"),
                Arguments.of(List.of("wal", "verify", "@notDb"), ExitCodes.DATA, "no wal/ directory"),
                Arguments.of(List.of("wal", "dump", "@file"), ExitCodes.DATA, "not a WAL segment"),
                Arguments.of(List.of("db", "inspect", "@file"), ExitCodes.DATA, "is a file"),
                Arguments.of(List.of("sst", "verify", "@notDb"), ExitCodes.DATA, "not a regular file"),
                Arguments.of(List.of("sst", "dump", "@file"), ExitCodes.CORRUPTION, "shorter than the"),
                Arguments.of(List.of("crash-test", "--dir", "@notDb", "--cycles", "1"), ExitCodes.DATA, "must be missing"),
                // malformed LSN or range
                Arguments.of(List.of("wal", "dump", "@db", "--from", "12abc"), ExitCodes.USAGE, "is not an LSN"),
                Arguments.of(List.of("wal", "dump", "@db", "--to", "-5"), ExitCodes.USAGE, "is not an LSN"),
                Arguments.of(List.of("wal", "dump", "@db", "--from", "99999999999999999999"), ExitCodes.USAGE, "not an LSN"),
                Arguments.of(List.of("crash-test", "--kill-after", "500"), ExitCodes.USAGE, "is not a range"),
                Arguments.of(List.of("crash-test", "--kill-after", "900..100"), ExitCodes.USAGE, "is empty"),
                Arguments.of(List.of("kv", "get", "@db", "zz", "--hex"), ExitCodes.USAGE, "is not hex"),
                // conflicting options
                Arguments.of(List.of("wal", "dump", "@db", "--from", "100", "--to", "50"), ExitCodes.USAGE, "is after --to"),
                Arguments.of(List.of("kv", "put", "@db", "k", "v", "--value-file", "@file"), ExitCodes.USAGE, "not both"),
                Arguments.of(List.of("kv", "scan", "@db", "--from", "b", "--to", "a"), ExitCodes.USAGE, "range is empty"),
                Arguments.of(List.of("db", "repair", "@db", "--wal-mode", "TOLERATE_CORRUPTED_TAIL"), ExitCodes.USAGE,
                        "--wal-mode must be"),
                Arguments.of(List.of("db", "checkpoint", "@db", "@db"), ExitCodes.USAGE, "must differ"),
                // plain usage errors: picocli's own, mapped to 64
                Arguments.of(List.of("db", "inspect"), ExitCodes.USAGE, "Missing required parameter"),
                Arguments.of(List.of("db", "inspect", "@db", "--bogus"), ExitCodes.USAGE, "Unknown option"),
                Arguments.of(List.of("db", "recover", "@db", "--mode", "FAST"), ExitCodes.USAGE, "Invalid value"),
                Arguments.of(List.of("crash-test", "--cycles", "0"), ExitCodes.USAGE, "--cycles must be"),
                Arguments.of(List.of("frobnicate"), ExitCodes.USAGE, "Unmatched argument"));
    }

    private static List<String> resolve(List<String> args) {
        List<String> out = new ArrayList<>();
        for (String a : args) {
            out.add(switch (a) {
                case "@db" -> db.toString();
                case "@notDb" -> notDb.toString();
                case "@file" -> file.toString();
                default -> a;
            });
        }
        return out;
    }

    @ParameterizedTest(name = "{0} -> exit {1}")
    @MethodSource("cases")
    void badInputGetsOneLineAndItsExitCode(List<String> args, int code, String message) {
        Cli.Result r = Cli.run(resolve(args));
        assertThat(r.code()).as("%s", r).isEqualTo(code);
        List<String> lines = r.err().lines().toList();
        assertThat(lines).as("%s", r).isNotEmpty();
        assertThat(lines.get(0)).as("%s", r).startsWith("redoubt: ").contains(message);
        if (code != ExitCodes.USAGE) {
            assertThat(lines).as("one line, no stack trace: %s", r).hasSize(1);
        } else {
            assertThat(lines).as("the message and a pointer to --help: %s", r).hasSizeLessThanOrEqualTo(2);
        }
        assertThat(r.err()).doesNotContain("\tat ");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void verboseAddsTheStackTrace() {
        Cli.Result r = Cli.run("db", "inspect", "/nonexistent/redoubt-data", "--verbose");
        assertThat(r.code()).isEqualTo(ExitCodes.NO_INPUT);
        assertThat(r.err()).contains("\tat dev.redoubt.tool.");
    }

    @Test
    void aDatabaseLockedByALiveDbIsRefusedByEveryCommand() {
        try (Db open = Db.open(db, Cli.smallOptions())) {
            for (List<String> args : List.of(List.of("db", "inspect", "@db"), List.of("db", "verify", "@db"),
                    List.of("db", "recover", "@db"), List.of("db", "recover", "@db", "--dry-run"),
                    List.of("db", "repair", "@db"), List.of("wal", "dump", "@db"), List.of("wal", "verify", "@db"),
                    List.of("kv", "get", "@db", "k"), List.of("kv", "put", "@db", "k", "v"),
                    List.of("db", "checkpoint", "@db", tmp.resolve("cp").toString()))) {
                Cli.Result r = Cli.run(resolve(args));
                assertThat(r.code()).as("%s: %s", args, r).isEqualTo(ExitCodes.LOCKED);
                assertThat(r.err().lines().toList()).as("%s", args).hasSize(1);
                assertThat(r.err()).contains("lock");
            }
        }
    }

    @Test
    void anUnreadableFileIsAnIoError() throws Exception {
        Path table = Cli.tables(db).get(0);
        Path copy = Files.copy(table, tmp.resolve("unreadable.sst"));
        Files.setPosixFilePermissions(copy, java.util.Set.of());
        try {
            org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(copy),
                    "running as root: every file is readable");
            Cli.Result r = Cli.run("sst", "verify", copy.toString());
            assertThat(r.code()).isEqualTo(ExitCodes.IO);
            assertThat(r.err()).contains("permission denied");
        } finally {
            Files.setPosixFilePermissions(copy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    @Test
    void ioExceptionsMapToTheirCodes() {
        assertThat(ExitCodes.of(new java.nio.file.AccessDeniedException("/x"))).isEqualTo(ExitCodes.IO);
        assertThat(ExitCodes.message(new java.nio.file.AccessDeniedException("/x"))).contains("/x: permission denied");
        assertThat(ExitCodes.of(new java.nio.file.NoSuchFileException("/x"))).isEqualTo(ExitCodes.NO_INPUT);
        assertThat(ExitCodes.of(new dev.redoubt.common.StorageException(dev.redoubt.common.ErrorCode.LOCKED, "l")))
                .isEqualTo(ExitCodes.LOCKED);
        assertThat(ExitCodes.of(dev.redoubt.common.StorageException.fromIo("reading",
                new java.nio.file.AccessDeniedException("/x")))).isEqualTo(ExitCodes.IO);
        assertThat(ExitCodes.of(new NullPointerException())).isEqualTo(ExitCodes.SOFTWARE);
        assertThat(ExitCodes.message(new NullPointerException("boom"))).contains("internal error").contains("--verbose");
    }
}
