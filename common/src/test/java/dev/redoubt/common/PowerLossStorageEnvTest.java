package dev.redoubt.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PowerLossStorageEnv} and its {@link UnsyncedOverlay}: reads see unsynced bytes over the file, a force
 * writes them, anything not forced is gone for a new instance (a restarted process) and for a really killed one,
 * and deletes are undone without a directory fsync. {@code -Dredoubt.seed=N} replays the random model test.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PowerLossStorageEnvTest {
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path dir;

    @Test
    void readsSeeUnsyncedWritesOverTheFileOnDisk() throws IOException {
        Path p = dir.resolve("f");
        Files.writeString(p, "hello world");
        try (StorageFile f = new PowerLossStorageEnv().openForWrite(p)) {
            f.write(0, utf8("HELLO"));
            f.write(11, utf8("!"));
            assertThat(text(f)).isEqualTo("HELLO world!");
            assertThat(f.size()).isEqualTo(12);
            ByteBuffer middle = ByteBuffer.allocate(6);
            assertThat(f.read(3, middle)).isEqualTo(6);
            assertThat(new String(middle.array(), StandardCharsets.UTF_8)).isEqualTo("LO wor");
            assertThat(f.read(12, ByteBuffer.allocate(1))).isEqualTo(-1);
            assertThat(Files.readString(p)).as("nothing reaches the disk before force").isEqualTo("hello world");
        }
    }

    @Test
    void forceWritesTheUnsyncedBytesToTheFile() throws IOException {
        Path p = dir.resolve("f");
        try (StorageFile f = new PowerLossStorageEnv().openForWrite(p)) {
            f.write(0, utf8("durable"));
            f.force();
            f.write(7, utf8(" and lost"));
        }
        assertThat(Files.readString(p)).isEqualTo("durable");
        try (StorageFile f = new PowerLossStorageEnv().openForRead(p)) {
            assertThat(text(f)).isEqualTo("durable");
        }
    }

    @Test
    void unsyncedBytesAreLostWhenANewInstanceOpensTheFile() throws IOException {
        Path p = dir.resolve("f");
        PowerLossStorageEnv dead = new PowerLossStorageEnv();
        try (StorageFile f = dead.openForWrite(p)) {
            f.write(0, utf8("0123456789"));
            f.force();
            f.write(2, utf8("ab"));
            f.write(10, utf8("tail"));
            f.truncate(12);
        }
        assertThat(dead.unsyncedBytes(p)).isEqualTo(4);
        try (StorageFile f = dead.openForRead(p)) {
            assertThat(text(f)).as("the same process still sees them").isEqualTo("01ab456789ta");
        }
        try (StorageFile f = new PowerLossStorageEnv().openForWrite(p)) {
            assertThat(text(f)).as("a restarted process does not").isEqualTo("0123456789");
        }
    }

    @Test
    void truncationIsUnsyncedUntilForceAndExtendingReadsZeros() throws IOException {
        Path p = dir.resolve("f");
        Files.writeString(p, "abcdefgh");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        try (StorageFile f = env.openForWrite(p)) {
            f.truncate(3);
            assertThat(text(f)).isEqualTo("abc");
            f.truncate(6);
            assertThat(text(f)).as("bytes a truncation removed do not come back").isEqualTo("abc\0\0\0");
            f.write(8, utf8("Z"));
            assertThat(text(f)).isEqualTo("abc\0\0\0\0\0Z");
            assertThat(Files.readString(p)).isEqualTo("abcdefgh");
            f.force();
            assertThat(Files.readString(p)).isEqualTo("abc\0\0\0\0\0Z");
            f.truncate(2);
            assertThat(f.size()).isEqualTo(2);
        }
        assertThat(Files.size(p)).as("a truncation is durable only after force").isEqualTo(9);
    }

    @Test
    void handlesOfOneFileShareItsUnsyncedBytesAndCloseKeepsThem() throws IOException {
        Path p = dir.resolve("f");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        StorageFile writer = env.openForWrite(p);
        StorageFile reader = env.openForRead(p);
        writer.write(0, utf8("shared"));
        assertThat(text(reader)).isEqualTo("shared");
        writer.close();
        assertThatThrownBy(() -> writer.write(0, utf8("x"))).isInstanceOf(ClosedChannelException.class);
        try (StorageFile again = env.openForWrite(p)) {
            assertThat(text(again)).as("closing is not syncing: the page cache keeps them").isEqualTo("shared");
            again.force();
        }
        assertThat(Files.readString(p)).isEqualTo("shared");
        reader.close();
    }

    @Test
    void readOnlyHandlesCannotWriteNorForceAnotherHandlesBytes() throws IOException {
        Path p = dir.resolve("f");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        try (StorageFile writer = env.openForWrite(p); StorageFile reader = env.openForRead(p)) {
            assertThatThrownBy(() -> reader.write(0, utf8("x"))).isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> reader.truncate(0)).isInstanceOf(NonWritableChannelException.class);
            writer.write(0, utf8("x"));
            assertThatThrownBy(reader::force).isInstanceOf(IOException.class).hasMessageContaining("read-only");
            writer.force();
            reader.force();
        }
    }

    @Test
    void renameCarriesTheUnsyncedBytesToTheNewName() throws IOException {
        Path temp = dir.resolve("t.tmp");
        Path target = dir.resolve("t");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        try (StorageFile f = env.openForWrite(temp)) {
            f.write(0, utf8("unsynced"));
        }
        env.rename(temp, target);
        try (StorageFile f = env.openForWrite(target)) {
            assertThat(text(f)).isEqualTo("unsynced");
        }
        assertThat(Files.size(target)).as("renamed, but never forced: empty after a power cut").isZero();
        try (StorageFile f = env.openForWrite(target)) {
            f.force();
        }
        assertThat(Files.readString(target)).isEqualTo("unsynced");
    }

    /**
     * A directory rename takes its files' state along: their unsynced bytes and hidden (deleted, not yet fsynced)
     * names go with them, and files later created under the old directory name are new files, read from disk.
     * (Found by the Raft nemesis: an engine directory swapped for a snapshot's saw the old files' lengths.)
     */
    @Test
    void renamingADirectoryCarriesItsFilesStateAndLeavesNoneUnderTheOldName() throws IOException {
        Path engine = dir.resolve("db");
        Path aside = dir.resolve("db.old");
        Files.createDirectories(engine);
        Files.writeString(engine.resolve("deleted"), "on disk");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        try (StorageFile f = env.openForWrite(engine.resolve("MANIFEST"))) {
            f.write(0, utf8("old, unsynced"));
        }
        env.delete(engine.resolve("deleted"));

        env.rename(engine, aside);

        try (StorageFile f = env.openForRead(aside.resolve("MANIFEST"))) {
            assertThat(text(f)).as("the unsynced bytes moved with the directory").isEqualTo("old, unsynced");
        }
        assertThat(env.exists(aside.resolve("deleted"))).as("still deleted, under the new name").isFalse();
        assertThat(env.list(aside)).containsExactly(aside.resolve("MANIFEST"));
        // a new engine directory under the old name, written behind the env's back (as a snapshot install does)
        Files.createDirectories(engine);
        Files.writeString(engine.resolve("MANIFEST"), "the new engine's manifest");
        Files.writeString(engine.resolve("deleted"), "a new file");
        try (StorageFile f = env.openForRead(engine.resolve("MANIFEST"))) {
            assertThat(text(f)).isEqualTo("the new engine's manifest");
        }
        assertThat(env.list(engine)).containsExactly(engine.resolve("MANIFEST"), engine.resolve("deleted"));
        env.syncDirectory(aside);
        assertThat(Files.exists(aside.resolve("deleted"))).as("the moved delete happens at its directory's fsync")
                .isFalse();
        assertThat(Files.readString(engine.resolve("deleted"))).isEqualTo("a new file");
    }

    @Test
    void createsAndRenamesReachTheDiskAtOnceWithoutADirectoryFsync() throws IOException {
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        env.openForWrite(dir.resolve("created")).close();
        env.rename(dir.resolve("created"), dir.resolve("renamed"));
        // Not lossy (see the class comment): a restarted process sees both, as a file system that committed its
        // metadata journal would show them.
        assertThat(Files.exists(dir.resolve("renamed"))).isTrue();
        assertThat(new PowerLossStorageEnv().list(dir)).containsExactly(dir.resolve("renamed"));
    }

    @Test
    void deleteIsHiddenUntilTheDirectoryFsyncAndUndoneWithoutIt() throws IOException {
        Path p = dir.resolve("f");
        Files.writeString(p, "old");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        assertThat(env.delete(p)).isTrue();
        assertThat(env.delete(p)).isFalse();
        assertThat(env.exists(p)).isFalse();
        assertThat(env.list(dir)).isEmpty();
        assertThatThrownBy(() -> env.openForRead(p)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> env.rename(p, dir.resolve("g"))).isInstanceOf(NoSuchFileException.class);
        assertThat(new PowerLossStorageEnv().exists(p)).as("a power cut now undoes the delete").isTrue();
        env.syncDirectory(dir);
        assertThat(Files.exists(p)).isFalse();
        assertThat(new PowerLossStorageEnv().exists(p)).isFalse();
    }

    @Test
    void creatingADirectoryFsyncsItsParentAndSoItsDeletes() throws IOException {
        Path p = dir.resolve("f");
        Files.writeString(p, "old");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        env.delete(p);
        env.createDirectories(dir.resolve("sub").resolve("deeper"));
        assertThat(Files.exists(p)).as("the grandparent was not fsynced").isTrue();
        env.delete(dir.resolve("sub").resolve("deeper"));
        assertThat(Files.exists(dir.resolve("sub").resolve("deeper"))).as("directories go at once").isFalse();
        env.createDirectories(dir.resolve("other"));
        assertThat(Files.exists(p)).isFalse();
    }

    @Test
    void reusingADeletedNameAppliesTheDelete() throws IOException {
        Path p = dir.resolve("f");
        Path q = dir.resolve("g");
        Files.writeString(p, "old content");
        Files.writeString(q, "q");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        env.delete(p);
        try (StorageFile f = env.openForWrite(p)) {
            assertThat(f.size()).as("a new file, not the deleted one").isZero();
            f.write(0, utf8("new"));
            f.force();
        }
        assertThat(Files.readString(p)).isEqualTo("new");
        env.delete(q);
        env.rename(p, q);
        assertThat(env.list(dir)).containsExactly(q);
        env.syncDirectory(dir);
        assertThat(Files.readString(q)).as("the rename replaced the hidden file; the sync deletes nothing").isEqualTo("new");
    }

    /**
     * Random writes, truncations, forces, reads, reopens and "restarts" (a new env instance: the process died)
     * against a model of the current and the durable bytes; after every step the disk file must equal the
     * durable bytes, and every read the current ones.
     */
    @Test
    void randomOperationsMatchAModelOfCurrentAndDurableBytes() throws IOException {
        Random random = new Random(SEED);
        Path p = dir.resolve("model");
        byte[] durable = new byte[0];
        byte[] current = new byte[0];
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        StorageFile f = env.openForWrite(p);
        try {
            for (int step = 0; step < 3000; step++) {
                String context = "seed " + SEED + " (replay: -Dredoubt.seed=" + SEED + "), step " + step;
                int op = random.nextInt(100);
                if (op < 50) {
                    long at = random.nextInt(current.length + 200);
                    byte[] data = new byte[random.nextInt(10) == 0 ? random.nextInt(20_000) : 1 + random.nextInt(300)];
                    random.nextBytes(data);
                    f.write(at, ByteBuffer.wrap(data));
                    current = Arrays.copyOf(current, (int) Math.max(current.length, at + data.length));
                    System.arraycopy(data, 0, current, (int) at, data.length);
                } else if (op < 60) {
                    int size = random.nextInt(current.length + 100);
                    f.truncate(size);
                    current = Arrays.copyOf(current, size);
                } else if (op < 70) {
                    f.force();
                    durable = current.clone();
                } else if (op < 90) {
                    int at = random.nextInt(current.length + 10);
                    ByteBuffer dst = ByteBuffer.allocate(random.nextInt(5000));
                    int n = f.read(at, dst);
                    int expected = dst.capacity() == 0 ? 0
                            : at >= current.length ? -1 : Math.min(dst.capacity(), current.length - at);
                    assertThat(n).as(context).isEqualTo(expected);
                    if (n > 0) {
                        assertThat(Arrays.copyOf(dst.array(), n)).as(context)
                                .isEqualTo(Arrays.copyOfRange(current, at, at + n));
                    }
                } else if (op < 95) {
                    f.close();
                    f = env.openForWrite(p);
                } else {
                    f.close();
                    env = new PowerLossStorageEnv(); // the process died: only what was forced is left
                    f = env.openForWrite(p);
                    current = durable.clone();
                }
                assertThat(f.size()).as(context).isEqualTo(current.length);
                assertThat(Files.readAllBytes(p)).as("%s: the disk file holds exactly the durable bytes", context)
                        .isEqualTo(durable);
            }
            ByteBuffer all = ByteBuffer.allocate(current.length);
            f.readFully(0, all);
            assertThat(all.array()).isEqualTo(current);
        } finally {
            f.close();
        }
    }

    /** The real thing: a child JVM on the env is killed with SIGKILL, and only what it made durable is left. */
    @Test
    void killingTheProcessLosesUnsyncedBytesAndUndoesUnsyncedDeletes() throws Exception {
        Files.writeString(dir.resolve("deleted"), "comes back");
        Files.writeString(dir.resolve("deleted-and-synced"), "gone");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), Child.class.getName(), dir.toString()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String line;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            line = in.readLine();
        } finally {
            child.toHandle().destroyForcibly();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(line).isEqualTo(Child.READY);
        assertThat(Files.readString(dir.resolve("kept"))).isEqualTo("forced");
        assertThat(Files.readString(dir.resolve("deleted"))).isEqualTo("comes back");
        assertThat(Files.exists(dir.resolve("deleted-and-synced"))).isFalse();
        assertThat(Files.size(dir.resolve("created"))).as("created at once, its data never forced").isZero();
    }

    /** The child of {@link #killingTheProcessLosesUnsyncedBytesAndUndoesUnsyncedDeletes}: writes, says READY, waits. */
    static final class Child {
        static final String READY = "READY";

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            PowerLossStorageEnv env = new PowerLossStorageEnv();
            StorageFile kept = env.openForWrite(dir.resolve("kept"));
            kept.write(0, utf8("forced"));
            kept.force();
            kept.write(6, utf8(" and then not"));
            kept.truncate(3);
            StorageFile created = env.openForWrite(dir.resolve("created"));
            created.write(0, utf8("never forced"));
            env.delete(dir.resolve("deleted-and-synced"));
            env.syncDirectory(dir);
            env.delete(dir.resolve("deleted"));
            System.out.println(READY);
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(2));
        }
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(StorageFile f) throws IOException {
        ByteBuffer all = ByteBuffer.allocate((int) f.size());
        f.readFully(0, all);
        return new String(all.array(), StandardCharsets.UTF_8);
    }
}
