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

/**
 * {@code redoubt kv ...}: single reads and writes for scripts, on a data directory or, with {@code --node}, on
 * a running node. Keys and values are UTF-8 text, or hex with --hex.
 */
@Command(name = "kv", mixinStandardHelpOptions = true,
        description = {"Get, put, delete or scan keys, for scripts (keys and values as UTF-8 text, or hex with --hex).",
            "On a data directory (DIR), or on a running node with --node HOST:PORT --secret-file FILE (then DIR is",
            "omitted), e.g. `redoubt kv --node 127.0.0.1:7401 --secret-file secret put k v --commit REMOTE_DURABLE`."},
        subcommands = {KvCommand.Get.class, KvCommand.Put.class, KvCommand.Delete.class, KvCommand.Scan.class})
final class KvCommand {
    @Option(names = "--node", paramLabel = "HOST:PORT", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Talk to this running node instead of opening a data directory (then omit DIR).")
    String node;

    @Option(names = "--secret-file", paramLabel = "FILE", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "The node's shared secret file (with --node).")
    Path secretFile;

    @Option(names = "--group", paramLabel = "ID@HOST:PORT,...", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Talk to this Raft group (linearizable reads; retries on leader changes); omit DIR.")
    String group;

    @Option(names = "--tls-dir", paramLabel = "DIR", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "With --group or --node: the group credential (made by `redoubt raft tls-init`): mutual TLS.")
    Path tlsDir;

    /** The Raft group client, or null unless --group was given. */
    dev.redoubt.replication.raft.RaftKvClient group() {
        if (group == null) {
            if (tlsDir != null && node == null) {
                throw CliException.usage("--tls-dir is for --group or --node");
            }
            return null;
        }
        return dev.redoubt.replication.raft.RaftKvClient.connect(RaftAdminCommand.peers(group),
                tlsDir == null ? null : dev.redoubt.replication.raft.RaftTls.load(tlsDir));
    }

    /** The node client, or null for a local directory. */
    dev.redoubt.replication.NodeClient connect() throws IOException {
        if (node == null) {
            if (secretFile != null) {
                throw CliException.usage("--secret-file is for --node");
            }
            return null;
        }
        if (secretFile == null) {
            throw CliException.usage("--node needs --secret-file FILE");
        }
        return dev.redoubt.replication.NodeClient.connect(NodeCommand.address(node, "--node"),
                NodeCommand.secret(secretFile), tlsDir == null ? null : dev.redoubt.replication.raft.RaftTls.load(tlsDir),
                10_000);
    }

    /**
     * Splits the positional arguments: DIR first unless --node is given, then {@code names} (the last ones
     * optional when {@code required} is smaller than their count).
     */
    String[] positionals(List<String> args, int required, String... names) {
        List<String> rest = args == null ? List.of() : args;
        boolean remote = node != null || group != null;
        int offset = remote ? 0 : 1;
        String usage = (remote ? "" : "DIR ") + String.join(" ", names);
        if (rest.size() < offset + required || rest.size() > offset + names.length) {
            throw CliException.usage("expected " + usage + (remote ? "" : " (or --node HOST:PORT instead of DIR)")
                    + ", got " + rest.size() + " argument(s)");
        }
        String[] out = new String[names.length + 1];
        out[0] = remote ? null : rest.get(0);
        for (int i = offset; i < rest.size(); i++) {
            out[i - offset + 1] = rest.get(i);
        }
        return out;
    }

    /** Opens an existing database; read-only when asked (reads never change the directory). */
    static Db open(Path dir, boolean readOnly) {
        DataDir.requireDatabase(dir);
        return Db.open(dir, DbOptions.defaults().readOnly(readOnly));
    }

    @Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print the value of KEY (read-only).", "Exit 0: found; 3: the key is absent."})
    static final class Get extends ToolCommand {
        @picocli.CommandLine.ParentCommand
        KvCommand kv;

        @Parameters(paramLabel = "[DIR] KEY", description = "Data directory (omitted with --node), then the key.")
        List<String> args;

        @Option(names = "--hex", description = "KEY and the printed value are hex.")
        boolean hex;

        @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
        boolean json;

        @Option(names = "--stale", description = "With --group: read from one member, without the leader (the value"
                + " may lag); the bound (its applied index, the leader's commit index) goes to stderr.")
        boolean stale;

        @Option(names = "--from", paramLabel = "ID", description = "With --stale: the member to read from (default: a follower).")
        String from;

        @Option(names = "--min-index", paramLabel = "N", description = "With --stale: only from a member that has"
                + " committed Raft index N (e.g. the index `put` printed: read your writes); else exit 65.")
        Long minIndex;

        @Override
        int run() throws IOException {
            jsonOutput(json);
            String[] p = kv.positionals(args, 1, "KEY");
            byte[] k = Bytes.parse(p[1], hex, "KEY");
            if (stale || from != null || minIndex != null) {
                return KvStaleGet.run(this, kv.group, k, from, minIndex);
            }
            byte[] v;
            try (dev.redoubt.replication.raft.RaftKvClient g = kv.group(); dev.redoubt.replication.NodeClient c = kv.connect()) {
                if (g != null) {
                    v = g.get(k);
                } else if (c != null) {
                    v = c.get(k);
                } else {
                    try (Db db = open(Path.of(p[0]), true)) {
                        v = db.get(k);
                    }
                }
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
        @picocli.CommandLine.ParentCommand
        KvCommand kv;

        @Parameters(paramLabel = "[DIR] KEY [VALUE]",
                description = "Data directory (omitted with --node), the key, and the value (or --value-file).")
        List<String> args;

        @Option(names = "--commit", paramLabel = "LEVEL",
                description = "With --node: LOCAL, REMOTE_DURABLE or REMOTE_APPLY (default: the node's).")
        dev.redoubt.replication.CommitLevel commit;

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
            String[] p = kv.positionals(args, 1, "KEY", "VALUE");
            String value = p[2];
            if ((value == null) == (valueFile == null)) {
                throw CliException.usage(value == null ? "give VALUE or --value-file"
                        : "give VALUE or --value-file, not both (conflicting options)");
            }
            byte[] k = Bytes.parse(p[1], hex, "KEY");
            byte[] v = valueFile != null ? Files.readAllBytes(DataDir.requireFile(valueFile)) : Bytes.parse(value, hex, "VALUE");
            try (dev.redoubt.replication.raft.RaftKvClient g = kv.group()) {
                if (g != null) {
                    out().println("committed at Raft index " + g.put(k, v));
                    return ExitCodes.OK;
                }
            }
            try (dev.redoubt.replication.NodeClient c = kv.connect()) {
                if (c != null) {
                    dev.redoubt.replication.WriteReceipt r = commit == null ? c.put(k, v) : c.put(k, v, commit);
                    out().println("LSN " + r.lsn() + ", reached " + r.reached());
                    return ExitCodes.OK;
                }
            }
            if (commit != null) {
                throw CliException.usage("--commit is for --node");
            }
            try (Db db = openForWrite(Path.of(p[0]), create, async)) {
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
        @picocli.CommandLine.ParentCommand
        KvCommand kv;

        @Parameters(paramLabel = "[DIR] KEY", description = "Data directory (omitted with --node), then the key.")
        List<String> args;

        @Option(names = "--commit", paramLabel = "LEVEL",
                description = "With --node: LOCAL, REMOTE_DURABLE or REMOTE_APPLY (default: LOCAL).")
        dev.redoubt.replication.CommitLevel commit;

        @Option(names = "--hex", description = "KEY is hex.")
        boolean hex;

        @Override
        int run() throws IOException {
            String[] p = kv.positionals(args, 1, "KEY");
            byte[] k = Bytes.parse(p[1], hex, "KEY");
            try (dev.redoubt.replication.raft.RaftKvClient g = kv.group()) {
                if (g != null) {
                    g.delete(k);
                    return ExitCodes.OK;
                }
            }
            try (dev.redoubt.replication.NodeClient c = kv.connect()) {
                if (c != null) {
                    c.delete(k, commit == null ? dev.redoubt.replication.CommitLevel.LOCAL : commit);
                    return ExitCodes.OK;
                }
            }
            try (Db db = openForWrite(Path.of(p[0]), false, false)) {
                db.delete(k);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print the keys in [--from, --to) in unsigned byte order, one \"KEY<TAB>VALUE\" line each"
                + " (read-only).", "With --node or --group the scan is paged; on a group each page (up to 1000"
                + " entries) is a linearizable read of its own.", "Exit 0: done."})
    static final class Scan extends ToolCommand {
        @picocli.CommandLine.ParentCommand
        KvCommand kv;

        @Parameters(paramLabel = "[DIR]", arity = "0..1", description = "Data directory (omitted with --node).")
        List<String> args;

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
        int run() throws IOException {
            jsonOutput(json);
            String[] p = kv.positionals(args, 0);
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
            try (dev.redoubt.replication.raft.RaftKvClient g = kv.group();
                 dev.redoubt.replication.NodeClient c = kv.connect();
                 Db db = c != null || g != null ? null : open(Path.of(p[0]), true);
                 DbIterator it = db == null ? null : db.scan(f, t)) {
                java.util.Iterator<KeyValue> source = it != null ? it
                        : g != null ? g.scan(f, t, limit == null ? Long.MAX_VALUE : limit) : remoteScan(c, f, t);
                while (source.hasNext() && (limit == null || count < limit)) {
                    KeyValue kv = source.next();
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

    /** A node's scan, page by page (a response holds at most 10,000 entries), so nothing is cut off silently. */
    static java.util.Iterator<KeyValue> remoteScan(dev.redoubt.replication.NodeClient c, byte[] from, byte[] to) {
        return new java.util.Iterator<>() {
            private java.util.Iterator<KeyValue> page = java.util.Collections.emptyIterator();
            private byte[] next = from;
            private boolean last;

            @Override
            public boolean hasNext() {
                while (!page.hasNext() && !last) {
                    try {
                        List<KeyValue> entries = c.scan(next, to, 10_000);
                        last = entries.isEmpty();
                        if (!entries.isEmpty()) {
                            byte[] k = entries.get(entries.size() - 1).key();
                            next = java.util.Arrays.copyOf(k, k.length + 1); // the smallest key after k
                        }
                        page = entries.iterator();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                return page.hasNext();
            }

            @Override
            public KeyValue next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return page.next();
            }
        };
    }
}
