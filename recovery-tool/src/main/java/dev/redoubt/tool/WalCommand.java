package dev.redoubt.tool;

import dev.redoubt.common.EntryKind;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.DbInspector;
import dev.redoubt.wal.DroppedRange;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.RecoveryMode;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.SegmentFiles;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalCorruptionException;
import dev.redoubt.wal.WalReader;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code redoubt wal ...}: read-only views of a data directory's write-ahead log. */
@Command(name = "wal", mixinStandardHelpOptions = true, description = "Dump or verify a write-ahead log (read-only).",
        subcommands = {WalCommand.Dump.class, WalCommand.Verify.class})
final class WalCommand {
    private WalCommand() {
    }

    @Command(name = "dump", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"One line per record: LSN, epoch, type, payload length, operations.",
                "Exit 0: read to the end of the log; 1: stopped at a torn tail; 2: stopped at corruption (printed)."})
    static final class Dump extends ToolCommand {
        @Parameters(index = "0", paramLabel = "DIR|SEGMENT",
                description = "A data directory (its wal/ is read) or one segment file (wal/<20-digit LSN>.wal).")
        Path target;

        @Option(names = "--from", paramLabel = "LSN", description = "First LSN to print (decimal; default: the start of the log).")
        String from;

        @Option(names = "--to", paramLabel = "LSN", description = "Stop before this LSN (decimal; default: the end).")
        String to;

        @Option(names = "--keys", description = "Also list each batch's operations: put/delete and the key.")
        boolean keys;

        @Option(names = "--values", description = "With --keys: each put's value too (what a rejoin or a recovery saved in"
                + " lost/ is read this way).")
        boolean values;

        @Option(names = "--hex", description = "Print keys (and values) in hex (default: UTF-8 text).")
        boolean hex;

        @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
        boolean json;

        @Override
        int run() {
            jsonOutput(json);
            if (values && !keys) {
                throw CliException.usage("--values lists each put's value beside its key: add --keys");
            }
            long fromLsn = from == null ? 0 : Lsn.parse(from, "--from");
            long toLsn = to == null ? Long.MAX_VALUE : Lsn.parse(to, "--to");
            if (fromLsn > toLsn) {
                throw CliException.usage("--from " + fromLsn + " is after --to " + toLsn + ": nothing to print");
            }
            Path dir;
            long segmentEnd = Long.MAX_VALUE;
            if (Files.isRegularFile(target)) {
                long base = SegmentFiles.parseSegmentBase(target);
                if (base < 0) {
                    throw new CliException(ExitCodes.DATA, target + " is not a WAL segment (expected a name like "
                            + SegmentFiles.segmentName(0) + ")");
                }
                DataDir.requireFile(target);
                Path walDir = target.toAbsolutePath().getParent();
                dir = walDir.getParent();
                fromLsn = Math.max(fromLsn, base);
                try {
                    segmentEnd = base + Files.size(target);
                } catch (java.io.IOException e) {
                    throw new CliException(ExitCodes.IO, target + ": " + e.getMessage(), e);
                }
                toLsn = Math.min(toLsn, segmentEnd);
            } else {
                dir = DataDir.requireWal(target);
            }
            try (AutoCloseable lock = DataDir.holdLock(dir)) {
                return dump(dir, fromLsn, toLsn);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new CliException(ExitCodes.IO, e.getMessage(), e);
            }
        }

        private int dump(Path dir, long fromLsn, long toLsn) {
            PrintWriter out = out();
            List<DbInspector.Segment> segments = DbInspector.files(ReadOnlyStorageEnv.INSTANCE, dir).segments();
            long readFrom = segments.isEmpty() ? 0 : segments.get(0).baseLsn();
            long logEnd = readFrom;
            for (DbInspector.Segment s : segments) {
                if (s.baseLsn() <= fromLsn) {
                    readFrom = s.baseLsn();
                }
                logEnd = s.baseLsn() + s.fileBytes();
            }
            long count = 0;
            long malformed = 0;
            if (json) {
                out.print("{\"command\":\"wal dump\",\"records\":[");
            } else {
                out.printf("# %18s  %5s  %-12s %9s  %s%n", "LSN", "epoch", "type", "length", "ops");
            }
            String status;
            String problem;
            long stoppedAt;
            try (Progress progress = Progress.bytes(cli(), "wal dump", Math.min(toLsn, logEnd) - readFrom);
                 WalReader reader = WalReader.open(ReadOnlyStorageEnv.INSTANCE, dir.resolve(Wal.WAL_DIR), readFrom)) {
                while (reader.next()) {
                    if (reader.lsn() >= toLsn) {
                        break;
                    }
                    if ((count & 0xFF) == 0) {
                        progress.stepTo(reader.lsn() - readFrom);
                    }
                    if (reader.lsn() < fromLsn) {
                        continue;
                    }
                    if (!record(reader, count > 0)) {
                        malformed++;
                    }
                    count++;
                }
                status = reader.status() == WalReader.Status.RECORD ? "LIMIT" : reader.status().name();
                problem = reader.problem();
                stoppedAt = reader.status() == WalReader.Status.RECORD ? reader.lsn() : reader.position();
            }
            if (status.equals("CORRUPT") && isTornTail(dir, stoppedAt)) {
                status = "TORN_TAIL";
            }
            boolean corrupt = status.equals("CORRUPT") || malformed > 0;
            if (json) {
                out.print("],");
                String tail = Json.object().put("count", count).put("stoppedAtLsn", stoppedAt)
                        .put("status", status).put("problem", problem).put("malformedBatches", malformed).toString();
                out.println(tail.substring(1));
            } else {
                out.printf("# %d records; stopped at LSN %d: %s%s%n", count, stoppedAt,
                        status.equals("CORRUPT") ? "CORRUPT: " + problem
                                : status.equals("TORN_TAIL") ? "torn tail (the next open drops it): " + problem
                                : status.equals("LIMIT") ? "--to reached" : "end of log",
                        malformed > 0 ? "; " + malformed + " malformed batches" : "");
            }
            return corrupt ? ExitCodes.CORRUPTION : status.equals("TORN_TAIL") ? ExitCodes.TORN_OR_LOST : ExitCodes.OK;
        }

        /** Whether the damage the reader stopped at is a torn tail (nothing valid after it, never proven durable). */
        private static boolean isTornTail(Path dir, long lsn) {
            RecoveryReport r = Wal.inspect(ReadOnlyStorageEnv.INSTANCE, dir, RecoveryMode.POINT_IN_TIME);
            for (DroppedRange d : r.dropped()) {
                if (d.fromLsn() == lsn) {
                    return d.kind() == DroppedRange.Kind.TORN_TAIL && !d.provenDurable();
                }
            }
            return false;
        }

        /** Prints one record; false when its batch does not decode. */
        private boolean record(WalReader r, boolean comma) {
            byte[] payload = r.payloadBytes();
            String ops = "-";
            Json rec = Json.object().put("lsn", r.lsn()).put("nextLsn", r.nextLsn()).put("epoch", r.epoch())
                    .put("durableLsn", r.durableLsn()).put("type", r.type()).put("length", r.payloadLength());
            List<Object> keyList = Json.array();
            StringBuilder lines = new StringBuilder();
            boolean ok = true;
            if (r.type() == RecordType.WRITE_BATCH) {
                try {
                    int n = DbInspector.decodeBatch(payload, r.lsn(), (i, kind, key, value) -> {
                        if (keys) {
                            String op = kind == EntryKind.PUT ? "put" : "delete";
                            Json item = Json.object().put("op", op).putBytes("key", key)
                                    .put("valueLength", kind == EntryKind.PUT ? value.length : null);
                            if (values && kind == EntryKind.PUT) {
                                item.putBytes("value", value);
                            }
                            keyList.add(item);
                            String shownValue = !values || kind != EntryKind.PUT ? ""
                                    : " = " + (hex ? Bytes.hex(value) : Bytes.describe(value));
                            lines.append(String.format("    %-6s %s%s%s%n", op, hex ? Bytes.hex(key) : Bytes.describe(key),
                                    kind == EntryKind.PUT ? "  (" + value.length + "-byte value)" : "", shownValue));
                        }
                    });
                    ops = Integer.toString(n);
                    rec.put("ops", n);
                } catch (StorageException e) {
                    ok = false;
                    ops = "MALFORMED: " + e.getMessage();
                    rec.put("ops", null).put("problem", e.getMessage());
                }
            } else {
                rec.put("ops", null);
                if (r.type() == RecordType.EPOCH_CHANGE && payload.length == Long.BYTES) {
                    long epoch = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    ops = "new epoch " + epoch;
                    rec.put("newEpoch", epoch);
                }
            }
            if (json) {
                if (keys) {
                    rec.put("keys", keyList);
                }
                out().print((comma ? "," : "") + rec);
            } else {
                out().printf("  %18d  %5d  %-12s %9d  %s%n", r.lsn(), r.epoch(), r.type(), r.payloadLength(), ops);
                out().print(lines);
            }
            return ok;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Check every record of the log without changing anything.",
                "Exit 0: clean; 1: torn tail (bytes the next open drops); 2: corruption (segment, offset, LSN)."})
    static final class Verify extends ToolCommand {
        @Parameters(index = "0", paramLabel = "DIR", description = "Data directory.")
        Path dir;

        @Option(names = "--json", description = "One JSON document (see the README's CLI reference).")
        boolean json;

        @Override
        int run() throws Exception {
            jsonOutput(json);
            DataDir.requireWal(dir);
            try (AutoCloseable lock = DataDir.holdLock(dir)) {
                return verify();
            }
        }

        private int verify() {
            PrintWriter out = out();
            RecoveryReport report;
            try (Progress progress = Progress.bytes(cli(), "wal verify", DataDir.walBytes(dir))) {
                report = Wal.inspect(ReadOnlyStorageEnv.INSTANCE, dir, RecoveryMode.TOLERATE_CORRUPTED_TAIL,
                        progress::stepTo);
            } catch (WalCorruptionException e) {
                if (json) {
                    printJson(Json.object().put("command", "wal verify").put("dir", dir.toString())
                            .put("status", "corruption").put("wal", null).put("corruption", Reports.corruption(e)));
                } else {
                    out.printf("CORRUPTION in segment %s at offset %d (LSN %d)%s%n  %s%n", e.segment(), e.offset(),
                            e.lsn(), e.provenDurable() ? ": acknowledged data" : "", e.getMessage());
                }
                return ExitCodes.CORRUPTION;
            }
            int code = Reports.walVerdict(report);
            if (json) {
                printJson(Json.object().put("command", "wal verify").put("dir", dir.toString())
                        .put("status", Reports.status(code)).put("wal", Reports.walRecovery(report))
                        .put("corruption", null));
                return code;
            }
            out.printf("WAL %s: %d records in %d segment(s), LSN %d..%d, last epoch %d%n", dir.resolve(Wal.WAL_DIR),
                    report.recordsRead(), report.segments(), report.startLsn(), report.endLsn(), report.lastEpoch());
            for (DroppedRange d : report.dropped()) {
                out.printf("  %s: LSN %d..%d (%d bytes) in segment %s at offset %d: %s%s%n",
                        d.kind() == DroppedRange.Kind.TORN_TAIL ? "torn tail" : "CORRUPTION", d.fromLsn(), d.toLsn(),
                        d.bytes(), d.segment(), d.offset(), d.reason(),
                        d.recordsAfter() > 0 ? " (" + d.recordsAfter() + " valid records after it)" : "");
            }
            out.println(switch (code) {
                case ExitCodes.OK -> "clean";
                case ExitCodes.TORN_OR_LOST -> "torn tail: " + report.bytesDropped() + " bytes that were never"
                        + " acknowledged as durable; the next open drops them (copied to lost/)";
                default -> "corruption: see the ranges above; `redoubt db recover --mode` and `redoubt db repair`"
                        + " say what each way out would drop";
            });
            return code;
        }
    }
}
