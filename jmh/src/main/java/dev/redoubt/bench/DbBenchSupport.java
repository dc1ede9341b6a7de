package dev.redoubt.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;

/** Setup and teardown helpers of the Db benchmarks (never on a measured path). */
final class DbBenchSupport {
    private DbBenchSupport() {
    }

    /** Bytes of every regular file under {@code dir}; files deleted meanwhile (a compaction's inputs) count 0. */
    static long sizeOf(Path dir) {
        long total = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    total += a.isDirectory() ? sizeOf(p) : a.isRegularFile() ? a.size() : 0;
                } catch (NoSuchFileException gone) {
                    // deleted while we looked
                }
            }
        } catch (NoSuchFileException gone) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return total;
    }

    /**
     * A line from {@code /proc/self/status} in KiB ({@code VmRSS}: resident now; {@code VmHWM}: the peak
     * resident set of the process so far), or -1 where there is no procfs.
     */
    static long procStatusKiB(String field) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : lines) {
                if (line.startsWith(field + ":")) {
                    String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                    return Long.parseLong(parts[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    /** "VmRSS x MiB, VmHWM y MiB, heap used/committed a/b MiB": the memory line the benchmarks print. */
    static String memoryLine() {
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return String.format(Locale.ROOT, "VmRSS %.0f MiB, VmHWM (peak) %.0f MiB, Java heap used %.0f / committed %.0f MiB",
                procStatusKiB("VmRSS") / 1024.0, procStatusKiB("VmHWM") / 1024.0, heap.getUsed() / 1048576.0,
                heap.getCommitted() / 1048576.0);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
