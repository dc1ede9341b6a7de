package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.Db;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command through bin/redoubt in a child process: the launcher's flags, stdout, stderr and exit codes. */
class LauncherTest {
    @TempDir
    Path tmp;

    @Test
    void launcherRunsEveryCommand() throws Exception {
        Cli.Result version = Cli.launch("--version");
        assertThat(version.code()).as("%s", version).isZero();
        assertThat(version.out()).startsWith("redoubt ");
        assertThat(Cli.launch("completion").out()).contains("complete -F");

        Path kv = tmp.resolve("kv");
        assertThat(Cli.launch("kv", "put", kv.toString(), "greeting", "hello", "--create").code()).isZero();
        assertThat(Cli.launch("kv", "get", kv.toString(), "greeting").out()).isEqualTo("hello\n");
        assertThat(Cli.launch("kv", "delete", kv.toString(), "greeting").code()).isZero();
        assertThat(Cli.launch("kv", "get", kv.toString(), "greeting").code()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(Cli.launch("kv", "scan", kv.toString(), "--json").out()).contains("\"count\":0");

        Path db = Cli.database(tmp.resolve("db"), 2000);
        String d = db.toString();
        assertThat(Cli.launch("wal", "dump", d, "--to", "1000000000").out()).contains("WRITE_BATCH");
        assertThat(Cli.launch("wal", "verify", d).out()).contains("clean");
        assertThat(Cli.launch("db", "inspect", d, "--json").out()).startsWith("{\"command\":\"db inspect\"");
        assertThat(Cli.launch("db", "verify", d).code()).isZero();
        Path table = Cli.tables(db).get(0);
        assertThat(Cli.launch("sst", "dump", table.toString()).out()).contains("PUT");
        assertThat(Cli.launch("sst", "verify", table.toString()).code()).isZero();
        Cli.Result recover = Cli.launch("db", "recover", d);
        assertThat(recover.code()).as("%s", recover).isZero();
        assertThat(recover.out()).contains("Recovered").contains("MB/s");
        assertThat(Cli.launch("db", "checkpoint", d, tmp.resolve("copy").toString()).code()).isZero();
        Files.delete(db.resolve("CURRENT"));
        Cli.Result repair = Cli.launch("db", "repair", d);
        assertThat(repair.code()).as("%s", repair).isZero();
        assertThat(Cli.launch("kv", "get", d, "w0/last").out()).isEqualTo("1999\n");
    }

    @Test
    void launcherExitCodesForBadInput() throws Exception {
        Cli.Result missing = Cli.launch("db", "inspect", tmp.resolve("missing").toString());
        assertThat(missing.code()).isEqualTo(ExitCodes.NO_INPUT);
        assertThat(missing.err().lines().toList()).hasSize(1);
        Cli.Result usage = Cli.launch("wal", "dump", tmp.toString(), "--from", "x");
        assertThat(usage.code()).isEqualTo(ExitCodes.USAGE);
        Path db = Cli.database(tmp.resolve("db"), 200);
        try (Db open = Db.open(db, Cli.smallOptions())) {
            Cli.Result locked = Cli.launch("db", "inspect", db.toString());
            assertThat(locked.code()).as("%s", locked).isEqualTo(ExitCodes.LOCKED);
            assertThat(locked.err()).contains("locked").contains("live process");
            assertThat(Cli.launch("kv", "get", db.toString(), "k").code()).isEqualTo(ExitCodes.LOCKED);
        }
    }

    @Test
    void launcherRunsTheDemoAndACrashTest() throws Exception {
        Cli.Result demo = Cli.launch("demo", "--cycles", "2", "--kill-after", "100..300");
        assertThat(demo.code()).as("%s", demo).isZero();
        assertThat(demo.out()).contains("$ redoubt db inspect").contains("Proved: across 2 kill -9 crashes");
        Cli.Result ct = Cli.launch("crash-test", "--cycles", "2", "--json", "--seed", "3", "--kill-after", "50..200");
        assertThat(ct.code()).as("%s", ct).isZero();
        assertThat(ct.out()).startsWith("{\"command\":\"crash-test\",\"seed\":3,").contains("\"passed\":true");
    }
}
