package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-only commands never modify the directory: hashed (names, sizes, SHA-256, mtimes) before and after, on a
 * directory with everything an open would change: a torn WAL tail, an orphan table, an unfinished table and a
 * stale manifest.
 */
class ReadOnlyCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void readOnlyCommandsLeaveEveryByteAndNameAsTheyWere() throws Exception {
        Path db = Cli.database(tmp.resolve("db"), 3000);
        Fixtures.tearTail(db);
        Path table = Cli.tables(db).get(0);
        Files.copy(table, db.resolve("sst").resolve("999990.sst"));
        Files.copy(table, db.resolve("sst").resolve("999991.sst.tmp"));
        Files.writeString(db.resolve("MANIFEST-999992"), "stale");
        String segment = Cli.onlyWalSegment(db).toString();
        String t = table.toString();
        String d = db.toString();
        List<List<String>> commands = List.of(
                List.of("wal", "dump", d), List.of("wal", "dump", d, "--keys", "--json"), List.of("wal", "dump", segment),
                List.of("wal", "verify", d), List.of("wal", "verify", d, "--json"),
                List.of("db", "inspect", d), List.of("db", "inspect", d, "--json", "--tables"),
                List.of("db", "verify", d), List.of("db", "verify", d, "--json"),
                List.of("db", "recover", d, "--dry-run"),
                List.of("db", "recover", d, "--dry-run", "--mode", "POINT_IN_TIME", "--json"),
                List.of("kv", "get", d, "w0/last"), List.of("kv", "scan", d, "--limit", "10"),
                List.of("sst", "dump", t), List.of("sst", "verify", t));
        Map<String, String> before = Cli.hashTree(db);
        for (List<String> command : commands) {
            Cli.Result r = Cli.run(command);
            assertThat(r.code()).as("%s: %s", command, r).isIn(ExitCodes.OK, ExitCodes.TORN_OR_LOST);
            assertThat(Cli.hashTree(db)).as("%s changed the directory", command).isEqualTo(before);
        }
        // The same commands through the launcher, in a child process.
        for (List<String> command : List.of(List.of("db", "inspect", d), List.of("db", "verify", d),
                List.of("wal", "verify", d), List.of("kv", "get", d, "w0/last"))) {
            Cli.Result r = Cli.launch(command.toArray(String[]::new));
            assertThat(r.code()).as("%s: %s", command, r).isIn(ExitCodes.OK, ExitCodes.TORN_OR_LOST);
            assertThat(Cli.hashTree(db)).as("bin/redoubt %s changed the directory", command).isEqualTo(before);
        }
    }
}
