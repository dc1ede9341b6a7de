package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk, not a simulated one: the Db on a tmpfs mounted with a few MiB ({@code mount -t tmpfs -o
 * size=...}), written with distinct keys until the file system has no space left. The writes must then fail with
 * {@link ErrorCode#NO_SPACE} and a message that says the disk is full; reads must keep working; writes stay refused
 * once space is back (the tmpfs grown with {@code mount -o remount,size=...}) until the database is reopened; the
 * reopened database holds every acknowledged write. Mounting needs root: elsewhere the test is skipped and says
 * why. The tmpfs is always unmounted at the end.
 */
class DbRealDiskFullTest {
    private static final String SMALL_SIZE = "4m";
    private static final String BIGGER_SIZE = "16m";
    /** Far more than fits: 4 MiB holds a few thousand of these writes. */
    private static final int MAX_WRITES = 100_000;
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path parent;

    /** Small enough that two preallocated WAL segments, memtables being flushed and a compaction fit in 4 MiB. */
    private static DbOptions options() {
        return DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024)
                .targetFileBytes(256 * 1024).level1MaxBytes(1024 * 1024).blockCacheBytes(256 * 1024);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aFullFileSystemFailsWritesWithNoSpaceKeepsReadsAndLosesNothingOnceSpaceIsBack() throws Exception {
        Object uid = effectiveUid();
        assumeTrue(Integer.valueOf(0).equals(uid), "mounting a size-limited tmpfs needs root; running as uid " + uid);
        Path mountPoint = Files.createDirectories(parent.resolve("tmpfs"));
        String mounted = run("mount", "-t", "tmpfs", "-o", "size=" + SMALL_SIZE, "tmpfs", mountPoint.toString());
        assumeTrue(mounted.isEmpty(), () -> "`mount -t tmpfs` failed (no CAP_SYS_ADMIN in a container?): " + mounted);
        try {
            fillThenGrowThenReopen(mountPoint.resolve("db"), mountPoint);
        } finally {
            unmount(mountPoint);
        }
    }

    /** The owner of a file we create, which is our effective uid; "unknown" where there is no unix view. */
    private Object effectiveUid() throws IOException {
        Path probe = Files.createFile(parent.resolve("owner-probe"));
        try {
            return Files.getAttribute(probe, "unix:uid");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return "unknown";
        }
    }

    private void fillThenGrowThenReopen(Path dir, Path mountPoint) throws Exception {
        Random random = new Random(SEED);
        Map<String, byte[]> acknowledged = new LinkedHashMap<>();
        try (Db db = Db.open(FileStorageEnv.INSTANCE, dir, options())) {
            StorageException full = null;
            for (int i = 0; i < MAX_WRITES && full == null; i++) {
                String key = String.format("key-%06d", i);
                byte[] value = new byte[512 + random.nextInt(1536)];
                random.nextBytes(value); // incompressible: tables take the space the values need
                try {
                    db.put(key.getBytes(StandardCharsets.UTF_8), value);
                    acknowledged.put(key, value);
                } catch (StorageException e) {
                    full = e;
                }
            }
            String context = "seed " + SEED + " (replay: -Dredoubt.seed=" + SEED + "), after " + acknowledged.size()
                    + " acknowledged writes";
            assertThat(full).as("a %s tmpfs fills up; %s", SMALL_SIZE, context).isNotNull();
            assertNoSpace(full, context);
            assertThat(db.stats().failure()).as(context).contains("the disk is full");

            assertEveryWriteIsThere(db, acknowledged, "reads on the full disk; " + context);
            assertThatThrownBy(() -> db.put("refused".getBytes(), new byte[10]))
                    .isInstanceOfSatisfying(StorageException.class, e -> assertNoSpace(e, context));

            String grown = run("mount", "-o", "remount,size=" + BIGGER_SIZE, mountPoint.toString());
            assertThat(grown).as("remount with more space").isEmpty();
            // Space is back, but the database that failed stays failed: only a reopen decides from disk.
            assertThatThrownBy(() -> db.put("refused".getBytes(), new byte[10]))
                    .isInstanceOfSatisfying(StorageException.class, e -> assertNoSpace(e, context));
        }
        DbFaultTest.assertPublishedStateIsWhole(FileStorageEnv.INSTANCE, dir);
        try (Db db = Db.open(FileStorageEnv.INSTANCE, dir, options())) {
            assertThat(db.stats().failure()).isNull();
            assertEveryWriteIsThere(db, acknowledged, "after reopening with space");
            assertThat(db.get("refused".getBytes())).as("a refused write").isNull();
            db.put("after-reopen".getBytes(), "ok".getBytes());
            assertThat(db.get("after-reopen".getBytes())).isEqualTo("ok".getBytes());
        }
    }

    private static void assertNoSpace(StorageException e, String context) {
        assertThat(e.code()).as("%s: %s", context, e).isEqualTo(ErrorCode.NO_SPACE);
        assertThat(e.getMessage()).as(context).contains("the disk is full", "Free space, then reopen");
    }

    private static void assertEveryWriteIsThere(Db db, Map<String, byte[]> acknowledged, String when) {
        for (Map.Entry<String, byte[]> e : acknowledged.entrySet()) {
            assertThat(db.get(e.getKey().getBytes(StandardCharsets.UTF_8))).as("%s: get %s", when, e.getKey())
                    .isEqualTo(e.getValue());
        }
        int scanned = 0;
        try (DbIterator it = db.scan("key-".getBytes(), "key.".getBytes())) {
            while (it.hasNext()) {
                it.next();
                scanned++;
            }
        }
        assertThat(scanned).as("%s: keys scanned", when).isEqualTo(acknowledged.size());
    }

    /** Unmounts, lazily if something still holds a file open, so that no mount outlives the test. */
    private static void unmount(Path mountPoint) throws InterruptedException {
        String error = run("umount", mountPoint.toString());
        if (!error.isEmpty()) {
            String lazy = run("umount", "-l", mountPoint.toString());
            assertThat(lazy).as("umount -l %s after: %s", mountPoint, error).isEmpty();
        }
    }

    /** Runs a command; returns "" when it succeeds, else what went wrong (with what it printed). */
    private static String run(String... command) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        } catch (IOException e) {
            return "cannot run " + command[0] + ": " + e.getMessage();
        }
        // mount and umount print a line or two at most: reading it all before waiting cannot block them.
        String output;
        try {
            output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            output = "(output unreadable: " + e.getMessage() + ")";
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + " did not finish within 30 s";
        }
        return p.exitValue() == 0 ? "" : String.join(" ", command) + " exited with " + p.exitValue() + ": " + output;
    }
}
