package dev.redoubt.tool;

import dev.redoubt.common.KeyOrder;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.engine.DbIterator;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.KeyValue;
import dev.redoubt.wal.Durability;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code redoubt kv ...}: single reads and writes for scripts. Keys and values are UTF-8 text, or hex with --hex. */
@Command(name = "kv", mixinStandardHelpOptions = true,
        description = "Get, put, delete or scan keys, for scripts (keys and values as UTF-8 text, or hex with --hex).",
        subcommands = {KvCommand.Get.class, KvCommand.Put.class, KvCommand.Delete.class, KvCommand.Scan.class})
final class KvCommand {
    private KvCommand() {
    }

    /** Opens an existing database; read-only when asked (reads never change the directory). */
    static Db open(Path dir, boolean readOnly) {
        DataDir.requireDatabase(dir);
        return Db.open(dir, DbOptions.defaults().readOnly(readOnly));
    }

    @Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print the value of KEY (read-only).", "Exit 0: found; 3: the key is absent."})
    static final class Get extends ToolCommand {
        @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
        Path dir;

        @Parameters(index = "1", paramLabel = "KEY", description = "The key.")
        String key;

        @Option(names = "--hex", description = "KEY and the printed value are hex.")
        boolean hex;

        @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
        boolean json;

        @Override
        int run() {
            jsonOutput(json);
            byte[] k = Bytes.parse(key, hex, "KEY");
            byte[] v;
            try (Db db = open(dir, true)) {
                v = db.get(k);
            }
            if (json) {
                printJson(Json.object().put("command", "kv get").putBytes("key", k).put("found", v != null)
                        .putBytes("value", v));
            } else if (v != null) {
                out().println(Bytes.format(v, hex));
            } else {
                err().println("redoubt: key not found: " + (hex ? Bytes.hex(k) : Bytes.describe(k)));
            }
            return v != null ? ExitCodes.OK : ExitCodes.NOT_FOUND;
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Set KEY to VALUE (or to the bytes of --value-file), durably (fsynced) unless --async.",
                "Exit 0: written."})
    static final class Put extends ToolCommand {
        @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
        Path dir;

        @Parameters(index = "1", paramLabel = "KEY", description = "The key.")
        String key;

        @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE", description = "The value.")
        String value;

        @Option(names = "--value-file", paramLabel = "FILE", description = "Take the value from this file, byte for byte.")
        Path valueFile;

        @Option(names = "--hex", description = "KEY and VALUE are hex.")
        boolean hex;

        @Option(names = "--create", description = "Create the database if DIR is missing or empty.")
        boolean create;

        @Option(names = "--async", description = "Return once the write reaches the OS (survives kill -9, not a power cut).")
        boolean async;

        @Override
        int run() throws IOException {
            if ((value == null) == (valueFile == null)) {
                throw CliException.usage(value == null ? "give VALUE or --value-file"
                        : "give VALUE or --value-file, not both (conflicting options)");
            }
            byte[] k = Bytes.parse(key, hex, "KEY");
            byte[] v = valueFile != null ? Files.readAllBytes(DataDir.requireFile(valueFile)) : Bytes.parse(value, hex, "VALUE");
            try (Db db = openForWrite(dir, create, async)) {
                db.put(k, v);
            }
            return ExitCodes.OK;
        }
    }

    static Db openForWrite(Path dir, boolean create, boolean async) {
        DbInspector.Kind kind = DbInspector.classify(dir);
        DbOptions options = DbOptions.defaults().durability(async ? Durability.ASYNC : Durability.SYNC);
        if (create && (kind == DbInspector.Kind.MISSING || kind == DbInspector.Kind.EMPTY)) {
            return Db.open(dir, options);
        }
        if (kind == DbInspector.Kind.MISSING || kind == DbInspector.Kind.EMPTY) {
            throw new CliException(kind == DbInspector.Kind.MISSING ? ExitCodes.NO_INPUT : ExitCodes.DATA, dir
                    + (kind == DbInspector.Kind.MISSING ? ": no such directory" : " is empty: not a Redoubt database")
                    + " (add --create to create a database there)");
        }
        DataDir.requireDatabase(dir);
        return Db.open(dir, options);
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Remove KEY, durably (a no-op for an absent key).", "Exit 0: done."})
    static final class Delete extends ToolCommand {
        @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
        Path dir;

        @Parameters(index = "1", paramLabel = "KEY", description = "The key.")
        String key;

        @Option(names = "--hex", description = "KEY is hex.")
        boolean hex;

        @Override
        int run() {
            byte[] k = Bytes.parse(key, hex, "KEY");
            try (Db db = openForWrite(dir, false, false)) {
                db.delete(k);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print the keys in [--from, --to) in unsigned byte order, one \"KEY<TAB>VALUE\" line each"
                + " (read-only).", "Exit 0: done."})
    static final class Scan extends ToolCommand {
        @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
        Path dir;

        @Option(names = "--from", paramLabel = "KEY", description = "First key (inclusive; default: the first).")
        String from;

        @Option(names = "--to", paramLabel = "KEY", description = "Stop before this key (default: the end).")
        String to;

        @Option(names = "--limit", paramLabel = "N", description = "Print at most N entries.")
        Long limit;

        @Option(names = "--keys-only", description = "Print the keys only.")
        boolean keysOnly;

        @Option(names = "--hex", description = "Keys and values (in and out) are hex.")
        boolean hex;

        @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
        boolean json;

        @Override
        int run() {
            jsonOutput(json);
            byte[] f = from == null ? null : Bytes.parse(from, hex, "--from");
            byte[] t = to == null ? null : Bytes.parse(to, hex, "--to");
            if (f != null && t != null && KeyOrder.compareKeys(f, t) > 0) {
                throw CliException.usage("--from is after --to: the range is empty");
            }
            if (limit != null && limit < 0) {
                throw CliException.usage("--limit must be >= 0, got " + limit);
            }
            PrintWriter out = out();
            List<Object> entries = Json.array();
            long count = 0;
            try (Db db = open(dir, true); DbIterator it = db.scan(f, t)) {
                while (it.hasNext() && (limit == null || count < limit)) {
                    KeyValue kv = it.next();
                    count++;
                    if (json) {
                        Json e = Json.object().putBytes("key", kv.key());
                        if (!keysOnly) {
                            e.putBytes("value", kv.value());
                        }
                        entries.add(e);
                    } else if (keysOnly) {
                        out.println(Bytes.format(kv.key(), hex));
                    } else {
                        out.println(Bytes.format(kv.key(), hex) + "\t" + Bytes.format(kv.value(), hex));
                    }
                }
            }
            if (json) {
                printJson(Json.object().put("command", "kv scan").put("entries", entries).put("count", count));
            }
            return ExitCodes.OK;
        }
    }
}
