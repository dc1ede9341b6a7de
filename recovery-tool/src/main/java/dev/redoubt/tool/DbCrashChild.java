package dev.redoubt.tool;

import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.PowerLossStorageEnv;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.DbStats;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.engine.WriteOptions;
import dev.redoubt.wal.Durability;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The child JVM of {@code redoubt crash-test}: opens the database in {@code args[0]} with tiny memtables and
 * levels (so that flushes, compactions and manifest switches run all the time) and writes batches from
 * {@code args[1]} threads with durability {@code args[2]}, writer {@code w}'s batches numbered from
 * {@code args[3]} up, until it is killed. With {@code args[4]} = {@code power-loss} the database runs on a
 * {@link PowerLossStorageEnv}, so that the kill also loses every byte not yet fsynced (the file data a power cut
 * would lose); otherwise ({@code kill}, or absent) on the real file layer. Over its stdout (the pipe to the
 * parent) it reports:
 * <pre>
 * READY                      the database is open (recovered)
 * ACK &lt;writer&gt; &lt;batch&gt;        the batch was acknowledged by Db.write (each writer's in increasing order)
 * STATS &lt;flushes&gt; &lt;compactions&gt; every 20 ms: background work done since the open
 * </pre>
 * Batch {@code b} of writer {@code w} puts {@link #key key(w, b, 'a')} and {@code key(w, b, 'b')}, both
 * {@link #value value(w, b)}, and sets {@link #lastKey lastKey(w)} to {@code b}: after a crash, all three or none.
 */
public final class DbCrashChild {
    private static final long STATS_INTERVAL_MS = 20;
    /** {@code args[4]} that runs the database on a {@link PowerLossStorageEnv}. */
    static final String POWER_LOSS = "power-loss";
    /** {@code args[4]} that runs it on the real file layer (a kill loses nothing the OS has). */
    static final String KILL = "kill";

    private DbCrashChild() {
    }

    /** Tiny memtables, tables and levels: a flush every few hundred batches, compactions all the time. */
    static DbOptions options() {
        return DbOptions.defaults().memtableBytes(64 * 1024).walSegmentBytes(256 * 1024).targetFileBytes(64 * 1024)
                .level1MaxBytes(256 * 1024).level0CompactionTrigger(3).blockCacheBytes(1 << 20);
    }

    /** Fixed-width batch numbers, so that key order is batch order and a cycle's keys form one range. */
    static byte[] key(int writer, long batch, char part) {
        return String.format("w%d/%012d/%c", writer, batch, part).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] batchPrefix(int writer, long batch) {
        return String.format("w%d/%012d/", writer, batch).getBytes(StandardCharsets.UTF_8);
    }

    /** The batch number in a {@link #key}. */
    static long batchOf(byte[] key) {
        String k = new String(key, StandardCharsets.UTF_8);
        int slash = k.indexOf('/');
        return Long.parseLong(k.substring(slash + 1, k.indexOf('/', slash + 1)));
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
        boolean powerLoss = args.length > 4 && args[4].equals(POWER_LOSS);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        StorageEnv env = powerLoss ? new PowerLossStorageEnv() : FileStorageEnv.INSTANCE;
        Db db = Db.open(env, dir, options());
        synchronized (out) {
            out.println("READY");
            out.flush();
        }
        WriteOptions writeOptions = new WriteOptions(durability);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                for (long b = first; ; b++) {
                    byte[] v = value(writer, b);
                    db.write(new WriteBatch().put(key(writer, b, 'a'), v).put(key(writer, b, 'b'), v)
                            .put(lastKey(writer), Long.toString(b).getBytes(StandardCharsets.UTF_8)), writeOptions);
                    synchronized (out) {
                        out.println("ACK " + writer + " " + b);
                        out.flush();
                    }
                }
            }, "writer-" + w);
            t.start();
        }
        while (true) {
            Thread.sleep(STATS_INTERVAL_MS);
            DbStats stats = db.stats();
            synchronized (out) {
                out.println("STATS " + stats.flushes() + " " + stats.compactions());
                out.flush();
            }
        }
    }
}
