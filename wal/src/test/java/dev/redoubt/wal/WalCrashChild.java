package dev.redoubt.wal;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The child process of {@link WalKillTest}: opens the log under a directory with the real file layer, appends
 * from several threads until it is killed, and reports every acknowledged record on stdout.
 *
 * <p>Arguments: {@code <dir> <SYNC|ASYNC> <threads> <first writer id> <truncateBefore LSN> <max millis>}.
 * Output lines (each written with one {@code write} call, so a kill cannot interleave two of them):
 * <ul>
 *   <li>{@code S <written LSN> <start LSN> #} once the log is open (and truncated) and the writers start;</li>
 *   <li>{@code A <writer> <seq> <LSN> #} after {@code append} returned for that record.</li>
 * </ul>
 * A line without the closing {@code #} was cut by the kill and means nothing. Any failure goes to stderr and
 * ends the process with status 3; if nobody kills it, it ends itself after {@code max millis} with status 4.
 */
public final class WalCrashChild {
    static final int SEGMENT_BYTES = 256 * 1024;
    static final int PAYLOAD_HEADER = 16;
    static final int EXIT_FAILED = 3;
    static final int EXIT_NOT_KILLED = 4;

    private static final Object OUT_LOCK = new Object();
    private static final FileOutputStream OUT = new FileOutputStream(FileDescriptor.out);

    private WalCrashChild() {
    }

    /** The options both the child and the verifying parent open the log with. */
    static WalOptions options() {
        return WalOptions.defaults().segmentBytes(SEGMENT_BYTES).compressAboveBytes(64);
    }

    /** The payload of record {@code seq} of {@code writer}: 16..1040 bytes, derived from nothing else. */
    static byte[] payload(int writer, long seq) {
        SplittableRandom r = new SplittableRandom(((long) writer * 0x9E3779B97F4A7C15L) ^ (seq * 0xC2B2AE3D27D4EB4FL));
        int length = PAYLOAD_HEADER + r.nextInt(1025);
        byte[] p = new byte[length];
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putInt(0, writer).putLong(4, seq).putInt(12, length);
        if (r.nextBoolean()) {
            int period = 1 + r.nextInt(16);
            for (int i = PAYLOAD_HEADER; i < length; i++) {
                p[i] = (byte) ('A' + (i / period) % 5);
            }
        } else {
            for (int i = PAYLOAD_HEADER; i < length; i++) {
                p[i] = (byte) r.nextInt();
            }
        }
        return p;
    }

    static int writerOf(byte[] payload) {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    }

    static long seqOf(byte[] payload) {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong(4);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Durability durability = Durability.valueOf(args[1]);
        int threads = Integer.parseInt(args[2]);
        int firstWriter = Integer.parseInt(args[3]);
        long truncateBefore = Long.parseLong(args[4]);
        long maxMillis = Long.parseLong(args[5]);
        Wal wal;
        try {
            wal = Wal.open(dir, options());
            if (truncateBefore > 0) {
                wal.truncateBefore(truncateBefore);
            }
        } catch (Throwable e) {
            die("opening the WAL failed", e);
            return;
        }
        emit("S " + wal.writtenLsn() + " " + wal.startLsn() + " #");
        for (int t = 0; t < threads; t++) {
            int writer = firstWriter + t;
            Thread thread = new Thread(() -> {
                try {
                    for (long seq = 0; ; seq++) {
                        long lsn = wal.append(RecordType.WRITE_BATCH, payload(writer, seq), durability);
                        emit("A " + writer + " " + seq + " " + lsn + " #");
                    }
                } catch (Throwable e) {
                    die("writer " + writer + " failed", e);
                }
            }, "crash-child-writer-" + writer);
            thread.start();
        }
        Thread.sleep(maxMillis);
        System.err.println("WalCrashChild: not killed within " + maxMillis + " ms; exiting");
        Runtime.getRuntime().halt(EXIT_NOT_KILLED);
    }

    private static void emit(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.US_ASCII);
        synchronized (OUT_LOCK) {
            try {
                OUT.write(bytes);
            } catch (IOException e) {
                die("writing to stdout failed", e);
            }
        }
    }

    private static void die(String what, Throwable e) {
        System.err.println("WalCrashChild: " + what + ": " + e);
        e.printStackTrace();
        System.err.flush();
        Runtime.getRuntime().halt(EXIT_FAILED);
    }
}
