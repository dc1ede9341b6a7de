package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.testsupport.TestFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Every command end to end, in this JVM through picocli: output, JSON and exit codes. */
class CommandsTest {
    @TempDir
    Path tmp;

    Path db;

    @BeforeEach
    void createDatabase() {
        db = Cli.database(tmp.resolve("db"), 3000);
    }

    @Test
    void everyCommandHasHelpAndVersion() {
        List<List<String>> paths = new java.util.ArrayList<>();
        collect(RedoubtCli.commandLine(), List.of(), paths);
        assertThat(paths).hasSizeGreaterThanOrEqualTo(20);
        for (List<String> path : paths) {
            List<String> args = new java.util.ArrayList<>(path);
            args.add("--help");
            Cli.Result help = Cli.run(args);
            assertThat(help.code()).as("%s --help: %s", path, help).isZero();
            assertThat(help.out()).as("%s", path).contains("Usage: redoubt");
            if (!path.contains("help")) {
                args.set(args.size() - 1, "--version");
                Cli.Result version = Cli.run(args);
                assertThat(version.code()).as("%s --version", path).isZero();
                assertThat(version.out()).as("%s --version", path).startsWith("redoubt ");
            }
        }
        assertThat(Cli.run("--help").out()).contains("Exit codes").contains("75  the database is locked");
    }

    private static void collect(CommandLine c, List<String> path, List<List<String>> out) {
        out.add(path);
        for (Map.Entry<String, CommandLine> e : c.getSubcommands().entrySet()) {
            List<String> sub = new java.util.ArrayList<>(path);
            sub.add(e.getKey());
            collect(e.getValue(), sub, out);
        }
    }

    @Test
    void completionPrintsABashScriptForEveryCommand() {
        Cli.Result r = Cli.run("completion");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("#!/usr/bin/env bash").contains("complete -F").contains("crash-test")
                .contains("recover").contains("--dry-run");
    }

    @Test
    void walDumpPrintsOneLinePerRecordWithKeys() {
        Cli.Result r = Cli.run("wal", "dump", db.toString(), "--keys");
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).contains("WRITE_BATCH").contains("put    \"w0/").contains("end of log");
        Cli.Result json = Cli.run("wal", "dump", db.toString(), "--json", "--keys");
        assertThat(json.out()).startsWith("{\"command\":\"wal dump\",\"records\":[{\"lsn\":")
                .contains("\"type\":\"WRITE_BATCH\"").contains("\"ops\":3").contains("\"keys\":[{\"op\":\"put\"")
                .contains("\"status\":\"END\"");
    }

    @Test
    void walDumpWithValuesPrintsEachPutsValueBesideItsKey() {
        Cli.Result r = Cli.run("wal", "dump", db.toString(), "--keys", "--values");
        assertThat(r.code()).as("%s", r).isZero();
        // The third op of each batch puts the batch number, in decimal, under the writer's "last" key.
        assertThat(r.out()).containsPattern("put .*-byte value\\) = \"[0-9]+\"");
        Cli.Result json = Cli.run("wal", "dump", db.toString(), "--json", "--keys", "--values");
        assertThat(json.out()).contains("\"value\":");
        Cli.Result alone = Cli.run("wal", "dump", db.toString(), "--values");
        assertThat(alone.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(alone.err()).contains("--keys");
    }

    @Test
    void walDumpHonoursFromAndToAndReadsOneSegment() throws Exception {
        String all = Cli.run("wal", "dump", db.toString()).out();
        List<String> lsns = all.lines().filter(l -> !l.startsWith("#")).map(l -> l.trim().split("\\s+")[0]).toList();
        assertThat(lsns).hasSizeGreaterThan(10);
        String from = lsns.get(3);
        String to = lsns.get(7);
        Cli.Result r = Cli.run("wal", "dump", db.toString(), "--from", from, "--to", to);
        assertThat(r.out().lines().filter(l -> !l.startsWith("#")).count()).isEqualTo(4);
        assertThat(r.out()).contains("--to reached");
        Path segment = Cli.onlyWalSegment(db);
        Cli.Result seg = Cli.run("wal", "dump", segment.toString());
        assertThat(seg.code()).as("%s", seg).isZero();
        assertThat(seg.out()).contains(lsns.get(lsns.size() - 1));
    }

    @Test
    void walVerifySaysCleanTornOrCorrupt() throws Exception {
        assertThat(Cli.run("wal", "verify", db.toString()).code()).isZero();
        Path torn = tmp.resolve("torn");
        TestFiles.copyTree(db, torn);
        long tornAt = Fixtures.tearTail(torn);
        Cli.Result t = Cli.run("wal", "verify", torn.toString());
        assertThat(t.code()).as("%s", t).isEqualTo(ExitCodes.TORN_OR_LOST);
        assertThat(t.out()).contains("torn tail").contains("LSN " + tornAt);
        assertThat(Cli.run("wal", "verify", torn.toString(), "--json").out())
                .contains("\"status\":\"torn_tail\"").contains("\"kind\":\"TORN_TAIL\"");
        Path corrupt = tmp.resolve("corrupt");
        TestFiles.copyTree(db, corrupt);
        long bad = Fixtures.corruptWalMiddle(corrupt);
        Cli.Result c = Cli.run("wal", "verify", corrupt.toString());
        assertThat(c.code()).as("%s", c).isEqualTo(ExitCodes.CORRUPTION);
        assertThat(c.out()).contains("CORRUPTION in segment").contains("(LSN " + bad + ")").contains("offset");
        assertThat(Cli.run("wal", "verify", corrupt.toString(), "--json").out())
                .contains("\"status\":\"corruption\"").contains("\"lsn\":" + bad);
    }

    @Test
    void dbInspectShowsCheckpointLevelsSegmentsAndReplayPlan() {
        Cli.Result r = Cli.run("db", "inspect", db.toString(), "--tables");
        assertThat(r.code()).as("%s", r).isZero();
        // Which levels hold tables depends on how far background compaction got: any level line will do.
        assertThat(r.out()).contains("checkpoint LSN").contains("epoch").containsPattern("L\\d +\\d+ ").contains(".sst")
                .contains("WAL: 1 segment(s)").contains("replay").contains("record(s)").contains("lost/: 0 file(s)");
        Cli.Result json = Cli.run("db", "inspect", db.toString(), "--json");
        assertThat(json.out()).startsWith("{\"command\":\"db inspect\",\"dir\":")
                .contains("\"checkpointLsn\":").contains("\"levels\":[{\"level\":0,").contains("\"smallestKey\":\"w0/")
                .contains("\"segments\":[{\"name\":\"0000").contains("\"recordsToReplay\":")
                .contains("\"wouldRefuse\":false");
    }

    @Test
    void dbVerifyFindsCorruptTablesAndTornTails() throws Exception {
        Cli.Result clean = Cli.run("db", "verify", db.toString());
        assertThat(clean.code()).as("%s", clean).isZero();
        assertThat(clean.out()).startsWith("clean:");
        Path torn = tmp.resolve("torn");
        TestFiles.copyTree(db, torn);
        Fixtures.tearTail(torn);
        assertThat(Cli.run("db", "verify", torn.toString()).code()).isEqualTo(ExitCodes.TORN_OR_LOST);
        Path bad = tmp.resolve("bad");
        TestFiles.copyTree(db, bad);
        Path table = Cli.tables(bad).get(0);
        Fixtures.corruptTable(table);
        Cli.Result r = Cli.run("db", "verify", bad.toString());
        assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.CORRUPTION);
        assertThat(r.out()).contains("CORRUPTION: sst/" + table.getFileName());
        assertThat(Cli.run("db", "verify", bad.toString(), "--json").out()).contains("\"status\":\"corruption\"")
                .contains("\"ok\":false");
    }

    @Test
    void dbRecoverReplaysAndReports() throws Exception {
        Fixtures.tearTail(db);
        Cli.Result dry = Cli.run("db", "recover", db.toString(), "--dry-run");
        assertThat(dry.code()).as("%s", dry).isEqualTo(ExitCodes.TORN_OR_LOST);
        assertThat(dry.out()).contains("would").contains("replay").contains("TORN_TAIL");
        Cli.Result r = Cli.run("db", "recover", db.toString(), "--json");
        assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.TORN_OR_LOST);
        assertThat(r.out()).contains("\"status\":\"recovered_with_drops\"").contains("\"recordsReplayed\":")
                .contains("\"mbPerSecond\":").contains("\"tornBytesDropped\":30");
        assertThat(Files.list(db.resolve("lost")).count()).isEqualTo(1);
        Cli.Result again = Cli.run("db", "recover", db.toString());
        assertThat(again.code()).as("%s", again).isZero();
        assertThat(again.out()).contains("(0 batches)").contains("dropped         0 byte(s)");
    }

    @Test
    void dbRecoverRefusesAcknowledgedDamageAndChangesNothing() throws Exception {
        Fixtures.corruptWalMiddle(db);
        Map<String, String> before = Cli.hashTree(db);
        Cli.Result r = Cli.run("db", "recover", db.toString());
        assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.CORRUPTION);
        assertThat(r.out()).contains("refuses to open").contains("--mode POINT_IN_TIME");
        assertThat(Cli.hashTree(db)).isEqualTo(before);
        Cli.Result skip = Cli.run("db", "recover", db.toString(), "--mode", "skip_corrupted");
        assertThat(skip.code()).as("%s", skip).isEqualTo(ExitCodes.TORN_OR_LOST);
        assertThat(skip.out()).contains("SKIPPED_CORRUPTION");
        assertThat(Cli.run("db", "verify", db.toString()).code()).isZero();
    }

    @Test
    void dbRepairMovesACorruptTableToLostAndTheDatabaseOpens() throws Exception {
        Path table = Cli.tables(db).get(0);
        Fixtures.corruptTable(table);
        Cli.Result r = Cli.run("db", "repair", db.toString());
        assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.TORN_OR_LOST);
        assertThat(r.out()).contains("sst/" + table.getFileName() + " -> lost/").contains("LOST:");
        assertThat(db.resolve("lost").resolve("repair-sst-" + table.getFileName())).exists();
        assertThat(Cli.run("db", "verify", db.toString()).code()).isZero();
        try (Db opened = Db.open(db, Cli.smallOptions())) {
            assertThat(opened.get("w0/last".getBytes(StandardCharsets.UTF_8))).isNotNull();
        }
    }

    @Test
    void dbRepairRebuildsADatabaseWithoutCurrentKeepingEveryAcknowledgedWrite() throws Exception {
        Files.delete(db.resolve("CURRENT"));
        assertThat(Cli.run("db", "inspect", db.toString()).code()).isEqualTo(ExitCodes.CORRUPTION);
        assertThat(Cli.run("kv", "get", db.toString(), "w0/last").code()).isEqualTo(ExitCodes.CORRUPTION);
        Cli.Result r = Cli.run("db", "repair", db.toString(), "--json");
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).contains("\"status\":\"repaired\"").contains("\"manifestUsed\":null")
                .contains("\"lost\":[]");
        try (Db opened = Db.open(db, Cli.smallOptions())) {
            for (int b = 0; b < 3000; b++) {
                assertThat(opened.get(DbCrashChild.key(0, b, 'a'))).as("batch %d", b)
                        .isEqualTo(DbCrashChild.value(0, b));
            }
            assertThat(new String(opened.get(DbCrashChild.lastKey(0)), StandardCharsets.UTF_8)).isEqualTo("2999");
        }
        assertThat(Cli.run("db", "verify", db.toString()).code()).isZero();
    }

    @Test
    void dbRepairOfAHealthyDatabaseLosesNothing() {
        Cli.Result r = Cli.run("db", "repair", db.toString());
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).contains("lost       nothing");
        assertThat(Cli.run("kv", "get", db.toString(), "w0/last").out().trim()).isEqualTo("2999");
    }

    @Test
    void dbCheckpointWritesAnOpenableCopy() {
        Path copy = tmp.resolve("copy");
        Cli.Result r = Cli.run("db", "checkpoint", db.toString(), copy.toString());
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).contains("Checkpoint of").contains("table(s)");
        assertThat(Cli.run("kv", "get", copy.toString(), "w0/last").out().trim()).isEqualTo("2999");
        assertThat(Cli.run("db", "checkpoint", db.toString(), copy.toString()).code()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void kvPutGetDeleteScanForScripts() {
        Path kv = tmp.resolve("kv");
        assertThat(Cli.run("kv", "put", kv.toString(), "k", "v").code()).isEqualTo(ExitCodes.NO_INPUT);
        assertThat(Cli.run("kv", "put", kv.toString(), "k1", "v1", "--create").code()).isZero();
        assertThat(Cli.run("kv", "put", kv.toString(), "6b32", "ff00", "--hex").code()).isZero();
        assertThat(Cli.run("kv", "get", kv.toString(), "k1").out()).isEqualTo("v1\n");
        assertThat(Cli.run("kv", "get", kv.toString(), "k2", "--json").out())
                .isEqualTo("{\"command\":\"kv get\",\"key\":\"k2\",\"keyHex\":\"6b32\",\"found\":true,\"value\":null,"
                        + "\"valueHex\":\"ff00\"}\n");
        assertThat(Cli.run("kv", "scan", kv.toString()).out()).startsWith("k1\tv1\nk2\t");
        assertThat(Cli.run("kv", "scan", kv.toString(), "--hex", "--keys-only").out()).isEqualTo("6b31\n6b32\n");
        assertThat(Cli.run("kv", "scan", kv.toString(), "--from", "k2").out()).startsWith("k2\t");
        assertThat(Cli.run("kv", "delete", kv.toString(), "k1").code()).isZero();
        Cli.Result missing = Cli.run("kv", "get", kv.toString(), "k1");
        assertThat(missing.code()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(missing.err()).isEqualTo("redoubt: key not found: \"k1\"\n");
        assertThat(Cli.run("kv", "scan", kv.toString(), "--json").out())
                .isEqualTo("{\"command\":\"kv scan\",\"entries\":[{\"key\":\"k2\",\"keyHex\":\"6b32\",\"value\":null,"
                        + "\"valueHex\":\"ff00\"}],\"count\":1}\n");
    }

    @Test
    void sstDumpAndVerify() throws Exception {
        Path table = Cli.tables(db).get(0);
        Cli.Result dump = Cli.run("sst", "dump", table.toString(), "--values");
        assertThat(dump.code()).as("%s", dump).isZero();
        assertThat(dump.out()).contains("entries").contains("PUT").contains("\"value of writer 0");
        assertThat(Cli.run("sst", "dump", table.toString(), "--json").out())
                .startsWith("{\"command\":\"sst dump\",\"file\":").contains("\"properties\":{\"entries\":")
                .contains("\"kind\":\"PUT\"");
        assertThat(Cli.run("sst", "verify", table.toString()).out()).startsWith("clean:");
        Fixtures.corruptTable(table);
        Cli.Result bad = Cli.run("sst", "verify", table.toString(), "--json");
        assertThat(bad.code()).isEqualTo(ExitCodes.CORRUPTION);
        assertThat(bad.out()).contains("\"status\":\"corruption\"").contains("corrupt at byte");
        Cli.Result badDump = Cli.run("sst", "dump", table.toString());
        assertThat(badDump.code()).isEqualTo(ExitCodes.CORRUPTION);
        assertThat(badDump.err().lines().count()).isEqualTo(1);
    }

    @Test
    void crashTestAndDemoRunAShortCrashTest() throws Exception {
        Cli.Result ct = Cli.run("crash-test", "--dir", tmp.resolve("ct").toString(), "--cycles", "2", "--writers", "2",
                "--kill-after", "50..150", "--seed", "7");
        assertThat(ct.code()).as("%s", ct).isZero();
        assertThat(ct.out()).contains("cycle").contains("SYNC").contains("ASYNC").contains("0 lost, 0 partial");
        Cli.Result demo = Cli.run("demo", "--cycles", "1", "--kill-after", "50..100");
        assertThat(demo.code()).as("%s", demo).isZero();
        assertThat(demo.out()).contains("$ redoubt db inspect").contains("checkpoint LSN")
                .contains("Proved: across 1 kill -9 crashes");
        assertThat(demo.out().lines().filter(l -> l.startsWith("Proved:")).count()).isEqualTo(1);
    }

    @Test
    void jsonOutputKeepsNoProgressAndIsOneLine() {
        Cli.Result r = Cli.run("db", "verify", db.toString(), "--json", "--progress");
        assertThat(r.out().lines().count()).isEqualTo(1);
        assertThat(r.err()).isEmpty();
    }

    @Test
    void readOnlyOpenIsUsedForKvGet() throws Exception {
        Fixtures.tearTail(db);
        Map<String, String> before = Cli.hashTree(db);
        assertThat(Cli.run("kv", "get", db.toString(), "w0/last").code()).isZero();
        assertThat(Cli.hashTree(db)).isEqualTo(before);
        try (Db opened = Db.open(db, DbOptions.defaults())) {
            assertThat(opened.recoveryReport().wal().bytesDropped()).isEqualTo(30);
        }
    }
}
