package dev.redoubt.tool;

import dev.redoubt.wal.Durability;
import dev.redoubt.wal.RecoveryReport;
import dev.redoubt.wal.Wal;
import dev.redoubt.wal.WalOptions;
import dev.redoubt.wal.WalReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One crash cycle against the WAL: start a {@link WalCrashChild}, let it append, SIGKILL it at a chosen moment,
 * reopen (recover) the log in this process and check every acknowledged record: present, at its LSN, with its
 * exact payload.
 */
final class WalCrashRun {
    private static final long CHILD_START_TIMEOUT_SECONDS = 60;

    /** What one cycle saw. */
    record Cycle(int number, long killAfterMs, long acknowledged, long verified, long lost, long recordsInLog,
                 long tornBytes, double recoveryMs) {
    }

    private final Path dir;
    private final int writers;
    private final Durability durability;
    private long nextSeq;

    WalCrashRun(Path dir, int writers, Durability durability) {
        this.dir = dir;
        this.writers = writers;
        this.durability = durability;
    }

    Cycle run(int number, long killAfterMs) throws IOException, InterruptedException {
        long firstSeq = nextSeq;
        nextSeq += 10_000_000L;
        Process child = start(firstSeq);
        Map<Long, Long> acked = new HashMap<>(); // key(writer, seq) -> LSN
        CountDownLatch ready = new CountDownLatch(1);
        Thread pump = new Thread(() -> readAcks(child, acked, ready), "crash-child-stdout");
        pump.start();
        try {
            if (!ready.await(CHILD_START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException("the crash child did not start within " + CHILD_START_TIMEOUT_SECONDS + " s");
            }
            Thread.sleep(killAfterMs);
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close, no flush
            child.waitFor();
            pump.join();
        }
        Map<Long, Long> acknowledged;
        synchronized (acked) {
            acknowledged = new HashMap<>(acked);
        }
        return verify(number, killAfterMs, acknowledged);
    }

    private Cycle verify(int number, long killAfterMs, Map<Long, Long> acknowledged) {
        long started = System.nanoTime();
        try (Wal wal = Wal.open(dir, WalOptions.defaults().segmentBytes(1024 * 1024))) {
            double recoveryMs = (System.nanoTime() - started) / 1e6;
            RecoveryReport report = wal.recoveryReport();
            Map<Long, byte[]> found = new HashMap<>();
            long records = 0;
            try (WalReader reader = wal.newReader(wal.startLsn())) {
                while (reader.next()) {
                    records++;
                    byte[] payload = reader.payloadBytes();
                    ByteBuffer b = ByteBuffer.wrap(payload);
                    if (payload.length >= 12) {
                        found.put(key(b.getInt(), b.getLong()), payload);
                    }
                }
            }
            long verified = 0;
            for (Map.Entry<Long, Long> ack : acknowledged.entrySet()) {
                int writer = (int) (ack.getKey() >>> 40);
                long seq = ack.getKey() & ((1L << 40) - 1);
                if (Arrays.equals(found.get(ack.getKey()), WalCrashChild.payload(writer, seq))) {
                    verified++;
                }
            }
            return new Cycle(number, killAfterMs, acknowledged.size(), verified, acknowledged.size() - verified,
                    records, report.bytesDropped(), recoveryMs);
        }
    }

    private static long key(int writer, long seq) {
        return ((long) writer << 40) | seq;
    }

    private Process start(long firstSeq) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"),
                WalCrashChild.class.getName(), dir.toString(), Integer.toString(writers), durability.name(),
                Long.toString(firstSeq)));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void readAcks(Process child, Map<Long, Long> acked, CountDownLatch ready) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("READY")) {
                    ready.countDown();
                } else if (line.startsWith("ACK ")) {
                    String[] f = line.split(" ");
                    if (f.length == 4) {
                        synchronized (acked) {
                            acked.put(key(Integer.parseInt(f[1]), Long.parseLong(f[2])), Long.parseLong(f[3]));
                        }
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The child was killed mid-line: what was read is what was acknowledged.
        }
    }
}
