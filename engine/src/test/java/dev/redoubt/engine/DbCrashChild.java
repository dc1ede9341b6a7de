package dev.redoubt.engine;

import dev.redoubt.wal.Durability;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The child of {@link DbKillTest}: opens the Db in {@code args[0]} with tiny memtables and levels (so flushes,
 * compactions and manifest switches run all the time) and writes batches from {@code args[1]} threads with
 * durability {@code args[2]}, starting at batch number {@code args[3]}, printing {@code ACK <writer> <batch>}
 * after each acknowledged batch, until it is killed.
 *
 * <p>Batch {@code b} of writer {@code w} puts {@code w<w>/<b>/a} and {@code w<w>/<b>/b} (both = {@link #value})
 * and sets {@code w<w>/last} to {@code b}: all three or none survive a crash.
 */
public final class DbCrashChild {
    private DbCrashChild() {
    }

    static DbOptions options() {
        return DbOptions.defaults().memtableBytes(64 * 1024).walSegmentBytes(256 * 1024).targetFileBytes(64 * 1024)
                .level1MaxBytes(256 * 1024).level0CompactionTrigger(3).blockCacheBytes(1 << 20);
    }

    static byte[] key(int writer, long batch, char part) {
        return ("w" + writer + "/" + batch + "/" + part).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] lastKey(int writer) {
        return ("w" + writer + "/last").getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(int writer, long batch) {
        return ("value of writer " + writer + " batch " + batch + " " + "x".repeat((int) (batch % 50)))
                .getBytes(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int writers = Integer.parseInt(args[1]);
        Durability durability = Durability.valueOf(args[2]);
        long first = Long.parseLong(args[3]);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        Db db = Db.open(dir, options());
        synchronized (out) {
            out.println("READY");
            out.flush();
        }
        WriteOptions writeOptions = new WriteOptions(durability);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            new Thread(() -> {
                for (long b = first; ; b++) {
                    byte[] v = value(writer, b);
                    db.write(new WriteBatch().put(key(writer, b, 'a'), v).put(key(writer, b, 'b'), v)
                            .put(lastKey(writer), Long.toString(b).getBytes(StandardCharsets.UTF_8)), writeOptions);
                    synchronized (out) {
                        out.println("ACK " + writer + " " + b);
                        out.flush();
                    }
                }
            }, "writer-" + w).start();
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
