package dev.redoubt.tool;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.WriteBatch;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the CLI in this JVM (picocli) or through bin/redoubt in a child process, and builds test directories. */
final class Cli {
    /** What a run printed and returned. */
    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Cli() {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = RedoubtCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static Result run(List<String> args) {
        return run(args.toArray(String[]::new));
    }

    /** The launcher script, from the module's directory (surefire runs there). */
    static Path launcher() {
        return Path.of("..", "bin", "redoubt").toAbsolutePath().normalize();
    }

    /** Runs {@code bin/redoubt args} in a child process, on this build's class path (no jar needed). */
    static Result launch(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", launcher().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("REDOUBT_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().put("REDOUBT_JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
        Path out = Files.createTempFile("redoubt-out-", ".txt");
        Path err = Files.createTempFile("redoubt-err-", ".txt");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
            Process p = pb.start();
            p.getOutputStream().close();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("bin/redoubt " + String.join(" ", args) + " did not finish in 180 s");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Tiny memtables so that a few thousand batches make tables on several levels and a WAL tail. */
    static DbOptions smallOptions() {
        return DbCrashChild.options();
    }

    /** A database with {@code batches} 3-key batches (flushed tables, compactions, and an unflushed WAL tail). */
    static Path database(Path dir, int batches) {
        try (Db db = Db.open(dir, smallOptions())) {
            for (int b = 0; b < batches; b++) {
                byte[] v = DbCrashChild.value(0, b);
                db.write(new WriteBatch().put(DbCrashChild.key(0, b, 'a'), v).put(DbCrashChild.key(0, b, 'b'), v)
                        .put(DbCrashChild.lastKey(0), Long.toString(b).getBytes(StandardCharsets.UTF_8)));
            }
        }
        return dir;
    }

    /** Every file under {@code dir} (relative name) with its size and SHA-256. */
    static Map<String, String> hashTree(Path dir) throws IOException {
        Map<String, String> hashes = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.toList()) {
                String name = dir.relativize(p).toString();
                if (Files.isDirectory(p)) {
                    hashes.put(name + "/", "dir");
                } else {
                    hashes.put(name, Files.size(p) + " " + sha256(Files.readAllBytes(p)) + " "
                            + Files.getLastModifiedTime(p).toMillis());
                }
            }
        }
        return hashes;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Overwrites {@code length} bytes at {@code offset} of {@code file} with their complement. */
    static void flip(Path file, long offset, int length) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(length);
            ch.read(b, offset);
            for (int i = 0; i < length; i++) {
                b.put(i, (byte) ~b.get(i));
            }
            b.clear();
            ch.write(b, offset);
        }
    }

    /** Writes {@code bytes} at {@code offset} of {@code file}. */
    static void write(Path file, long offset, byte[] bytes) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes), offset);
        }
    }

    static Path onlyWalSegment(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("wal"))) {
            List<Path> segments = s.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
            return segments.get(segments.size() - 1);
        }
    }

    static List<Path> tables(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("sst"))) {
            return s.filter(p -> p.toString().endsWith(".sst")).sorted().toList();
        }
    }
}
