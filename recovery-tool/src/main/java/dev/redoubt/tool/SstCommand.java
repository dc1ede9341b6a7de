package dev.redoubt.tool;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.StorageException;
import dev.redoubt.sstable.BlockCache;
import dev.redoubt.sstable.SstProperties;
import dev.redoubt.sstable.SstReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code redoubt sst ...}: one SSTable file, read-only. */
@Command(name = "sst", mixinStandardHelpOptions = true, description = "Dump or verify one SSTable file (read-only).",
        subcommands = {SstCommand.Dump.class, SstCommand.Verify.class})
final class SstCommand {
    private SstCommand() {
    }

    static SstReader open(Path file) {
        DataDir.requireFile(file);
        try {
            return SstReader.open(ReadOnlyStorageEnv.INSTANCE, file, new BlockCache(0));
        } catch (StorageException e) {
            throw e;
        }
    }

    static Json properties(SstProperties p) {
        return Json.object().put("entries", p.entryCount()).put("deletions", p.deletionCount())
                .put("minSequence", p.minSequence()).put("maxSequence", p.maxSequence())
                .putBytes("smallestKey", p.smallestKey()).putBytes("largestKey", p.largestKey())
                .put("dataBlocks", p.dataBlockCount()).put("dataBytes", p.dataBytes())
                .put("rawKeyBytes", p.rawKeyBytes()).put("rawValueBytes", p.rawValueBytes())
                .put("indexBytes", p.indexBytes()).put("filterBytes", p.filterBytes()).put("fileBytes", p.fileBytes());
    }

    @Command(name = "dump", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print the table's properties, then one line per entry: key, sequence, kind, value length.",
                "Exit 0: dumped; 2: the table is corrupt (where, and what)."})
    static final class Dump extends ToolCommand {
        @Parameters(index = "0", paramLabel = "FILE", description = "An SSTable (sst/<n>.sst).")
        Path file;

        @Option(names = "--values", description = "Print the values too.")
        boolean values;

        @Option(names = "--hex", description = "Print keys and values in hex.")
        boolean hex;

        @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
        boolean json;

        @Override
        int run() {
            jsonOutput(json);
            PrintWriter out = out();
            try (SstReader reader = open(file)) {
                SstProperties p = reader.properties();
                if (json) {
                    out.print("{\"command\":\"sst dump\",\"file\":");
                    out.print(Json.write(file.toString()));
                    out.print(",\"properties\":" + properties(p) + ",\"entries\":[");
                } else {
                    out.printf("# %s: %d entries (%d deletions), sequences %d..%d, keys %s .. %s, %d data blocks, %s%n",
                            file, p.entryCount(), p.deletionCount(), p.minSequence(), p.maxSequence(),
                            Bytes.describe(p.smallestKey()), Bytes.describe(p.largestKey()), p.dataBlockCount(),
                            Bytes.size(p.fileBytes()));
                }
                long count = 0;
                try (Progress progress = Progress.items(cli(), "sst dump", p.entryCount(), "entries");
                     EntryIterator it = reader.iterator()) {
                    for (it.seekToFirst(); it.valid(); it.next()) {
                        if (json) {
                            Json e = Json.object().putBytes("key", it.key()).put("sequence", it.sequence())
                                    .put("kind", it.kind()).put("valueLength", it.value().length);
                            if (values) {
                                e.putBytes("value", it.value());
                            }
                            out.print((count > 0 ? "," : "") + e);
                        } else {
                            out.printf("%s  %d  %s  %d%s%n", hex ? Bytes.hex(it.key()) : Bytes.describe(it.key()),
                                    it.sequence(), it.kind(), it.value().length,
                                    values ? "  " + (hex ? Bytes.hex(it.value()) : Bytes.describe(it.value())) : "");
                        }
                        if ((++count & 0xFFF) == 0) {
                            progress.stepTo(count);
                        }
                    }
                }
                if (json) {
                    out.println("],\"count\":" + count + "}");
                } else {
                    out.printf("# %d entries%n", count);
                }
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Read every block of the table from the file and check its checksum, entries, key order,"
                + " index, filter and properties.", "Exit 0: clean; 2: corrupt (where, and what)."})
    static final class Verify extends ToolCommand {
        @Parameters(index = "0", paramLabel = "FILE", description = "An SSTable (sst/<n>.sst).")
        Path file;

        @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
        boolean json;

        @Override
        int run() {
            jsonOutput(json);
            DataDir.requireFile(file);
            SstProperties p = null;
            String problem = null;
            try (SstReader reader = SstReader.open(ReadOnlyStorageEnv.INSTANCE, file, new BlockCache(0))) {
                p = reader.properties();
                reader.verify();
            } catch (StorageException e) {
                if (e.code() != dev.redoubt.common.ErrorCode.CORRUPTION) {
                    throw e;
                }
                problem = e.getMessage();
            }
            int code = problem == null ? ExitCodes.OK : ExitCodes.CORRUPTION;
            if (json) {
                printJson(Json.object().put("command", "sst verify").put("file", file.toString())
                        .put("status", problem == null ? "clean" : "corruption").put("problem", problem)
                        .put("properties", p == null ? null : properties(p)));
            } else if (problem == null) {
                out().printf("clean: %s, %d entries in %d data blocks, every checksum and the key order hold%n", file,
                        p.entryCount(), p.dataBlockCount());
            } else {
                out().println("CORRUPTION: " + problem);
            }
            return code;
        }
    }
}
