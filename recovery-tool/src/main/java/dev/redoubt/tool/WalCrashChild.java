package dev.redoubt.tool;

import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecordType;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalOptions;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The child process of a crash demo or crash test: opens the WAL in {@code args[0]} and appends from
 * {@code args[1]} threads with durability {@code args[2]}, printing {@code ACK <writer> <seq> <lsn>} after each
 * acknowledged append (and {@code READY} once open), until it is killed. {@code args[3]} is the first sequence
 * number, so that every cycle writes new records.
 */
public final class WalCrashChild {
    private WalCrashChild() {
    }

    /** The payload of a writer's record: writer, sequence, then bytes derived from both (checkable exactly). */
    public static byte[] payload(int writer, long seq) {
        int length = 16 + (int) ((writer * 131 + seq * 29) % 400);
        ByteBuffer b = ByteBuffer.allocate(length);
        b.putInt(writer).putLong(seq).putInt(length);
        while (b.hasRemaining()) {
            b.put((byte) (writer * 7 + seq * 13 + b.position()));
        }
        return b.array();
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int writers = Integer.parseInt(args[1]);
        Durability durability = Durability.valueOf(args[2]);
        long firstSeq = Long.parseLong(args[3]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false);
        Wal wal = Wal.open(dir, WalOptions.defaults().segmentBytes(1024 * 1024));
        synchronized (out) {
            out.println("READY " + wal.writtenLsn());
            out.flush();
        }
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                UnsafeBuffer buffer = new UnsafeBuffer(new byte[0]);
                for (long seq = firstSeq; ; seq++) {
                    byte[] p = payload(writer, seq);
                    buffer.wrap(p);
                    long lsn = wal.append(RecordType.WRITE_BATCH, buffer, 0, p.length, durability);
                    synchronized (out) {
                        out.println("ACK " + writer + " " + seq + " " + lsn);
                        out.flush();
                    }
                }
            }, "writer-" + w);
            t.start();
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
