package dev.redoubt.testsupport;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.common.StorageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class SimulatedStorageEnvTest {

    private static final Path DIR = Path.of("/db");
    private static final Path FILE = DIR.resolve("000001.log");

    private SimulatedStorageEnv env;

    @BeforeEach
    void setUp() throws IOException {
        env = new SimulatedStorageEnv();
        env.createDirectories(DIR);
    }

    // ---------------------------------------------------------------- what a power cut keeps

    @Test
    void unsyncedBytesAreDroppedByPowerCut() throws IOException {
        createDurably(FILE, "");
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "lost");
        }

        env.cutPower();

        assertThat(env.readAllBytes(FILE)).isEmpty();
    }

    @Test
    void bytesWrittenAfterTheLastForceAreDroppedByPowerCut() throws IOException {
        createDurably(FILE, "kept");
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 4, "+lost");
            write(f, 0, "KEPT");
        }

        env.cutPower();

        assertThat(text(FILE)).isEqualTo("kept");
    }

    @Test
    void syncedDataAndNamesSurvivePowerCut() throws IOException {
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "durable");
            f.force();
        }
        env.syncDirectory(DIR);

        env.cutPower();

        assertThat(env.exists(FILE)).isTrue();
        assertThat(text(FILE)).isEqualTo("durable");
        assertThat(env.list(DIR)).containsExactly(FILE);
    }

    @Test
    void createWithoutDirectorySyncIsUndoneByPowerCut() throws IOException {
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "forced but unnamed");
            f.force();
        }

        env.cutPower();

        assertThat(env.exists(FILE)).isFalse();
        assertThat(env.list(DIR)).isEmpty();
    }

    @Test
    void renameWithoutDirectorySyncIsUndoneByPowerCut() throws IOException {
        Path current = DIR.resolve("CURRENT");
        Path temp = DIR.resolve("CURRENT.tmp");
        createDurably(current, "old");
        createDurably(temp, "new");

        env.rename(temp, current);
        assertThat(text(current)).isEqualTo("new");
        assertThat(env.exists(temp)).isFalse();

        env.cutPower();

        assertThat(text(current)).isEqualTo("old");
        assertThat(text(temp)).isEqualTo("new");
    }

    @Test
    void renameWithDirectorySyncSurvivesPowerCut() throws IOException {
        Path current = DIR.resolve("CURRENT");
        Path temp = DIR.resolve("CURRENT.tmp");
        createDurably(current, "old");
        createDurably(temp, "new");

        env.rename(temp, current);
        env.syncDirectory(DIR);
        env.cutPower();

        assertThat(text(current)).isEqualTo("new");
        assertThat(env.exists(temp)).isFalse();
    }

    @Test
    void renameAcrossDirectoriesSurvivesPowerCutOnceBothDirectoriesAreSynced() throws IOException {
        Path other = Path.of("/db/archive");
        env.createDirectories(other);
        createDurably(FILE, "moved");

        env.rename(FILE, other.resolve("moved.log"));
        env.syncDirectory(DIR);
        env.syncDirectory(other);
        env.cutPower();

        assertThat(env.exists(FILE)).isFalse();
        assertThat(text(other.resolve("moved.log"))).isEqualTo("moved");
    }

    @Test
    void deleteWithoutDirectorySyncIsUndoneByPowerCut() throws IOException {
        createDurably(FILE, "resurrected");

        assertThat(env.delete(FILE)).isTrue();
        assertThat(env.exists(FILE)).isFalse();

        env.cutPower();

        assertThat(text(FILE)).isEqualTo("resurrected");
    }

    @Test
    void deleteWithDirectorySyncSurvivesPowerCut() throws IOException {
        createDurably(FILE, "gone");

        env.delete(FILE);
        env.syncDirectory(DIR);
        env.cutPower();

        assertThat(env.exists(FILE)).isFalse();
    }

    @Test
    void truncationIsDroppedByPowerCutUnlessForced() throws IOException {
        createDurably(FILE, "0123456789");
        try (StorageFile f = env.openForWrite(FILE)) {
            f.truncate(3);
        }
        env.cutPower();
        assertThat(text(FILE)).isEqualTo("0123456789");

        try (StorageFile f = env.openForWrite(FILE)) {
            f.truncate(3);
            f.force();
        }
        env.cutPower();
        assertThat(text(FILE)).isEqualTo("012");
    }

    @Test
    void bytesBeyondAForcedShrinkDoNotReappearWhenTheFileGrowsAgain() throws IOException {
        createDurably(FILE, "abcdefgh");
        try (StorageFile f = env.openForWrite(FILE)) {
            f.truncate(2);
            f.force();
            f.truncate(6);
            f.force();
        }

        env.cutPower();

        assertThat(env.readAllBytes(FILE)).containsExactly('a', 'b', 0, 0, 0, 0);
    }

    @Test
    void directoriesAreDurableAsSoonAsTheyAreCreated() throws IOException {
        Path nested = Path.of("/db/a/b");
        env.createDirectories(nested);

        env.cutPower();

        assertThat(env.exists(nested)).isTrue();
        assertThat(env.exists(Path.of("/db/a"))).isTrue();
    }

    @Test
    void creatingADirectoryMakesThePendingNamesOfItsParentDurableLikeFileStorageEnv() throws IOException {
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "x");
            f.force();
        }

        env.createDirectories(DIR.resolve("sub"));
        env.cutPower();

        assertThat(text(FILE)).isEqualTo("x");
    }

    @Test
    void powerCutMatchesAReferenceModelOverRandomWritesTruncatesAndForces() throws IOException {
        // Guards the incremental force (only the range changed since the last force is copied).
        Random random = new Random(42);
        createDurably(FILE, "");
        byte[] current = new byte[0];
        byte[] durable = new byte[0];
        StorageFile f = env.openForWrite(FILE);
        for (int step = 0; step < 3000; step++) {
            int op = random.nextInt(10);
            if (op < 6) {
                byte[] bytes = new byte[1 + random.nextInt(40)];
                random.nextBytes(bytes);
                int position = random.nextInt(current.length + 20);
                f.write(position, ByteBuffer.wrap(bytes));
                current = Arrays.copyOf(current, Math.max(current.length, position + bytes.length));
                System.arraycopy(bytes, 0, current, position, bytes.length);
            } else if (op < 8) {
                int size = random.nextInt(current.length + 20);
                f.truncate(size);
                current = Arrays.copyOf(current, size);
            } else if (op < 9) {
                f.force();
                durable = current.clone();
            } else {
                env.cutPower();
                current = durable.clone();
                f = env.openForWrite(FILE);
            }
            assertThat(env.readAllBytes(FILE)).as("step %d", step).isEqualTo(current);
        }
        env.cutPower();
        assertThat(env.readAllBytes(FILE)).isEqualTo(durable);
    }

    // ---------------------------------------------------------------- handles across cuts and crashes

    @Test
    void handlesOpenedBeforeCutAreDead() throws IOException {
        createDurably(FILE, "data");
        StorageFile writer = env.openForWrite(FILE);
        StorageFile reader = env.openForRead(FILE);

        env.cutPower();

        assertDead(writer, "power was cut");
        assertDead(reader, "power was cut");
    }

    @Test
    void closingADeadHandleIsHarmless() throws IOException {
        StorageFile f = env.openForWrite(FILE);
        env.cutPower();

        f.close();
        f.close();
    }

    @Test
    void envIsUsableAfterPowerCut() throws IOException {
        createDurably(FILE, "old");
        env.cutPower();

        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 3, "+new");
            f.force();
            assertThat(f.size()).isEqualTo(7);
        }
        env.cutPower();

        assertThat(text(FILE)).isEqualTo("old+new");
    }

    @Test
    void processCrashKillsHandlesButLosesNothing() throws IOException {
        StorageFile f = env.openForWrite(FILE);
        write(f, 0, "in the page cache");

        env.crashProcess();

        assertDead(f, "process was killed");
        assertThat(env.exists(FILE)).isTrue();
        assertThat(text(FILE)).isEqualTo("in the page cache");
    }

    @Test
    void aHandleReportsTheFirstDeathAfterItWasOpened() throws IOException {
        StorageFile beforeCrash = env.openForWrite(FILE);
        env.crashProcess();
        StorageFile beforeCut = env.openForWrite(FILE);
        env.cutPower();

        assertThatThrownBy(beforeCrash::size).hasMessage("process was killed");
        assertThatThrownBy(beforeCut::size).hasMessage("power was cut");
    }

    @Test
    void aWriterStillRunningDuringTheCutCannotChangeTheSurvivingState() throws Exception {
        createDurably(FILE, "");
        StorageFile f = env.openForWrite(FILE);
        AtomicLong forcedLength = new AtomicLong();
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        CountDownLatch someForced = new CountDownLatch(10);
        Thread writer = new Thread(() -> {
            try {
                for (long at = 0; ; at += 8) {
                    f.write(at, ByteBuffer.allocate(8).putLong(0, at));
                    if (at % 64 == 0) {
                        f.force();
                        forcedLength.set(at + 8);
                        someForced.countDown();
                    }
                }
            } catch (Throwable t) {
                writerFailure.set(t);
            }
        });
        writer.start();
        someForced.await();

        env.cutPower();
        byte[] afterCut = env.readAllBytes(FILE);
        writer.join();

        assertThat(writerFailure.get()).isInstanceOf(IOException.class).hasMessage("power was cut");
        assertThat(env.readAllBytes(FILE)).isEqualTo(afterCut);
        assertThat((long) afterCut.length).isEqualTo(forcedLength.get());
        ByteBuffer content = ByteBuffer.wrap(afterCut);
        for (long at = 0; at < afterCut.length; at += 8) {
            assertThat(content.getLong((int) at)).isEqualTo(at);
        }
    }

    @Test
    void concurrentWritersToDisjointRangesAllLand() throws Exception {
        StorageFile f = env.openForWrite(FILE);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int slot = t;
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 1000; i++) {
                        f.write((slot * 1000L + i) * 4, ByteBuffer.allocate(4).putInt(0, slot * 1000 + i));
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }

        ByteBuffer content = ByteBuffer.wrap(env.readAllBytes(FILE));
        assertThat(content.remaining()).isEqualTo(8 * 1000 * 4);
        for (int i = 0; i < 8000; i++) {
            assertThat(content.getInt(i * 4)).isEqualTo(i);
        }
    }

    // ---------------------------------------------------------------- fault injection

    @Test
    void failedForceThrowsAndLaterForcesToo() throws IOException {
        env.failForceAfter(2);
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "first");
            f.force();
            write(f, 5, "+second");

            assertThatThrownBy(f::force).isInstanceOf(IOException.class).hasMessage("injected fsync failure");
            assertThatThrownBy(f::force).isInstanceOf(IOException.class).hasMessage("injected fsync failure");
        }
        env.syncDirectory(DIR);
        env.cutPower();

        assertThat(text(FILE)).isEqualTo("first");
        assertThat(env.forceCount()).isEqualTo(1);
    }

    @Test
    void failForceAfterOneFailsTheNextForce() throws IOException {
        env.failForceAfter(1);
        try (StorageFile f = env.openForWrite(FILE)) {
            assertThatThrownBy(f::force).hasMessage("injected fsync failure");
        }
    }

    @Test
    void failForceAfterRejectsCountsBelowOne() {
        assertThatThrownBy(() -> env.failForceAfter(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void failForceAtFailsOnlyThatForceAndMakesNothingDurable() throws IOException {
        env.failForceAt(2);
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "first");
            f.force();
            write(f, 5, "+second");

            assertThatThrownBy(f::force).isInstanceOf(IOException.class).hasMessage("injected fsync failure");
            assertThat(text(FILE)).isEqualTo("first+second");
            env.syncDirectory(DIR);
            env.cutPower();
        }

        assertThat(text(FILE)).isEqualTo("first");
        assertThat(env.forceCount()).isEqualTo(1);
    }

    @Test
    void forcesAfterTheOneFailedByFailForceAtSucceedAgain() throws IOException {
        env.failForceAt(1);
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "data");
            assertThatThrownBy(f::force).hasMessage("injected fsync failure");

            // Like Linux after a writeback error: the retry "succeeds"; only a caller that gave up is safe.
            f.force();
            f.force();
        }
        assertThat(env.forceCount()).isEqualTo(2);
    }

    @Test
    void failForceAtAndFailForceAfterReplaceEachOther() throws IOException {
        env.failForceAfter(1);
        env.failForceAt(2);
        try (StorageFile f = env.openForWrite(FILE)) {
            f.force();
            assertThatThrownBy(f::force).hasMessage("injected fsync failure");
            f.force();

            env.failForceAt(1);
            env.failForceAfter(2);
            f.force();
            assertThatThrownBy(f::force).hasMessage("injected fsync failure");
            assertThatThrownBy(f::force).hasMessage("injected fsync failure");
        }
    }

    @Test
    void failForceAtRejectsCountsBelowOne() {
        assertThatThrownBy(() -> env.failForceAt(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("forcesFromNow must be at least 1");
    }

    @Test
    void failWriteAtFailsOnlyThatWriteAndWritesNothing() throws IOException {
        env.failWriteAt(2);
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "one");
            ByteBuffer src = ByteBuffer.wrap("two".getBytes(UTF_8));

            assertThatThrownBy(() -> f.write(3, src))
                    .isInstanceOf(IOException.class).hasMessage("injected write failure");
            assertThat(src.position()).isZero();
            assertThat(text(FILE)).isEqualTo("one");

            write(f, 3, "three");
        }
        assertThat(text(FILE)).isEqualTo("onethree");
        assertThat(env.writeCount()).isEqualTo(2);
        assertThat(env.bytesWritten()).isEqualTo(8);
    }

    @Test
    void failWriteAtOneFailsTheNextWriteEvenAnEmptyOne() throws IOException {
        env.failWriteAt(1);
        try (StorageFile f = env.openForWrite(FILE)) {
            assertThatThrownBy(() -> f.write(0, ByteBuffer.allocate(0))).hasMessage("injected write failure");
            f.write(0, ByteBuffer.allocate(0));
        }
    }

    @Test
    void failWriteAtCountsOnlyWritesOnLiveWritableHandles() throws IOException {
        createDurably(FILE, "x");
        env.failWriteAt(1);
        try (StorageFile reader = env.openForRead(FILE)) {
            assertThatThrownBy(() -> write(reader, 0, "y")).isInstanceOf(NonWritableChannelException.class);
        }
        try (StorageFile f = env.openForWrite(FILE)) {
            assertThatThrownBy(() -> write(f, 0, "y")).hasMessage("injected write failure");
        }
    }

    @Test
    void failWriteAtRejectsCountsBelowOne() {
        assertThatThrownBy(() -> env.failWriteAt(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("writesFromNow must be at least 1");
    }

    @Test
    void injectedFailuresNameTheCallAndTheFileByItsCurrentName() throws IOException {
        Path temp = DIR.resolve("CURRENT.tmp");
        Path current = DIR.resolve("CURRENT");
        env.failWriteAt(1);
        try (StorageFile f = env.openForWrite(temp)) {
            assertThatThrownBy(() -> write(f, 0, "a")).hasMessage("injected write failure");
            env.rename(temp, current);
            env.failForceAt(1);
            assertThatThrownBy(f::force).hasMessage("injected fsync failure");
            env.failWritesAfterBytes(0);
            assertThatThrownBy(() -> write(f, 0, "b")).hasMessage("No space left on device");
        }

        assertThat(env.injectedFailures()).containsExactly(
                new SimulatedStorageEnv.InjectedFailure("write", temp, "injected write failure"),
                new SimulatedStorageEnv.InjectedFailure("force", current, "injected fsync failure"),
                new SimulatedStorageEnv.InjectedFailure("write", current, "No space left on device"));
    }

    @Test
    void theDiskFullMessageIsWhatTheEngineMapsToNoSpace() throws IOException {
        env.failWritesAfterBytes(0);
        try (StorageFile f = env.openForWrite(FILE)) {
            IOException full = catchIo(() -> write(f, 0, "x"));
            StorageException mapped = StorageException.fromIo("appending", full);

            assertThat(mapped.code()).isEqualTo(ErrorCode.NO_SPACE);
            assertThat(mapped.getMessage()).contains("the disk is full");
        }
    }

    @Test
    void injectedWriteAndFsyncFailuresAreMappedToIo() throws IOException {
        env.failWriteAt(1);
        try (StorageFile f = env.openForWrite(FILE)) {
            assertThat(StorageException.fromIo("appending", catchIo(() -> write(f, 0, "x"))).code())
                    .isEqualTo(ErrorCode.IO);
            env.failForceAt(1);
            assertThat(StorageException.fromIo("syncing", catchIo(f::force)).code()).isEqualTo(ErrorCode.IO);
        }
    }

    @Test
    void diskFullWritesPrefixThenThrows() throws IOException {
        env.failWritesAfterBytes(5);
        try (StorageFile f = env.openForWrite(FILE)) {
            ByteBuffer src = ByteBuffer.wrap("0123456789".getBytes(UTF_8));

            assertThatThrownBy(() -> f.write(0, src))
                    .isInstanceOf(IOException.class).hasMessage("No space left on device");
            assertThat(src.position()).isEqualTo(5);
            assertThat(text(FILE)).isEqualTo("01234");

            assertThatThrownBy(() -> write(f, 5, "x")).hasMessage("No space left on device");
            assertThat(f.size()).isEqualTo(5);
            f.write(5, ByteBuffer.allocate(0));
        }
        assertThat(env.bytesWritten()).isEqualTo(5);
    }

    @Test
    void writesThatFitTheRemainingSpaceSucceed() throws IOException {
        env.failWritesAfterBytes(6);
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "abc");
            write(f, 3, "def");
            assertThatThrownBy(() -> write(f, 6, "g")).hasMessage("No space left on device");
        }
        assertThat(text(FILE)).isEqualTo("abcdef");
    }

    @Test
    void clearFaultsLetsForcesAndWritesSucceedAgain() throws IOException {
        env.failForceAfter(1);
        env.failWriteAt(1);
        env.failWritesAfterBytes(0);
        env.clearFaults();

        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "fine");
            f.force();
        }
        assertThat(text(FILE)).isEqualTo("fine");
        assertThat(env.injectedFailures()).isEmpty();
    }

    @Test
    void faultsStaySetAcrossACrash() throws IOException {
        env.failWriteAt(1);
        env.crashProcess();
        try (StorageFile f = env.openForWrite(FILE)) {
            assertThatThrownBy(() -> write(f, 0, "x")).hasMessage("injected write failure");
        }
    }

    @Test
    void countersCountSuccessfulForcesWritesAndWrittenBytes() throws IOException {
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "abc");
            write(f, 100, "de");
            f.force();
            f.force();
        }
        assertThat(env.forceCount()).isEqualTo(2);
        assertThat(env.writeCount()).isEqualTo(2);
        assertThat(env.bytesWritten()).isEqualTo(5);
    }

    // ---------------------------------------------------------------- media corruption

    @Test
    void flipBitCorruptsTheContentDurably() throws IOException {
        createDurably(FILE, "A");

        env.flipBit(FILE, 0, 0);
        assertThat(text(FILE)).isEqualTo("@");

        env.cutPower();
        assertThat(text(FILE)).isEqualTo("@");
    }

    @Test
    void writeRawOverwritesTheCurrentAndTheDurableContent() throws IOException {
        createDurably(FILE, "abcdef");
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 6, "ghi");
        }

        env.writeRaw(FILE, 4, "XXXX".getBytes(UTF_8));
        assertThat(text(FILE)).isEqualTo("abcdXXXXi");

        env.cutPower();
        assertThat(text(FILE)).isEqualTo("abcdXX");
    }

    @Test
    void corruptionOutsideTheFileIsRejected() throws IOException {
        createDurably(FILE, "abc");

        assertThatThrownBy(() -> env.flipBit(FILE, 3, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> env.writeRaw(FILE, 2, new byte[2])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> env.flipBit(FILE, 0, 8)).isInstanceOf(IllegalArgumentException.class);
        assertThat(text(FILE)).isEqualTo("abc");
    }

    // ---------------------------------------------------------------- file semantics

    @Test
    void writeBeyondTheEndZeroFillsTheGap() throws IOException {
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 3, "x");
            assertThat(f.size()).isEqualTo(4);
        }
        assertThat(env.readAllBytes(FILE)).containsExactly(0, 0, 0, 'x');
    }

    @Test
    void emptyWriteBeyondTheEndDoesNotGrowTheFile() throws IOException {
        try (StorageFile f = env.openForWrite(FILE)) {
            f.write(10, ByteBuffer.allocate(0));
            assertThat(f.size()).isZero();
        }
    }

    @Test
    void readReturnsMinusOneAtAndAfterTheEnd() throws IOException {
        createDurably(FILE, "abc");
        try (StorageFile f = env.openForRead(FILE)) {
            ByteBuffer dst = ByteBuffer.allocate(10);
            assertThat(f.read(1, dst)).isEqualTo(2);
            assertThat(new String(dst.array(), 0, 2, UTF_8)).isEqualTo("bc");
            assertThat(f.read(3, ByteBuffer.allocate(1))).isEqualTo(-1);
            assertThat(f.read(99, ByteBuffer.allocate(1))).isEqualTo(-1);
        }
    }

    @Test
    void truncateShrinksAndExtendsWithZeros() throws IOException {
        try (StorageFile f = env.openForWrite(FILE)) {
            write(f, 0, "abcdef");
            f.truncate(2);
            assertThat(f.size()).isEqualTo(2);
            f.truncate(4);
            assertThat(f.size()).isEqualTo(4);
        }
        assertThat(env.readAllBytes(FILE)).containsExactly('a', 'b', 0, 0);
    }

    @Test
    void openForReadOfAMissingFileThrowsNoSuchFile() {
        assertThatThrownBy(() -> env.openForRead(FILE)).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void openingAFileInAMissingDirectoryThrowsNoSuchFile() {
        Path orphan = Path.of("/nowhere/file");
        assertThatThrownBy(() -> env.openForRead(orphan)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> env.openForWrite(orphan)).isInstanceOf(NoSuchFileException.class);
        assertThat(env.exists(orphan)).isFalse();
    }

    @Test
    void openForWriteKeepsTheContentOfAnExistingFile() throws IOException {
        createDurably(FILE, "abc");
        try (StorageFile f = env.openForWrite(FILE)) {
            assertThat(f.size()).isEqualTo(3);
        }
    }

    @Test
    void openingADirectoryAsAFileFails() {
        assertThatThrownBy(() -> env.openForWrite(DIR)).isInstanceOf(FileSystemException.class);
        assertThatThrownBy(() -> env.openForRead(DIR)).isInstanceOf(FileSystemException.class);
    }

    @Test
    void readOnlyHandlesRejectWrites() throws IOException {
        createDurably(FILE, "abc");
        try (StorageFile f = env.openForRead(FILE)) {
            assertThatThrownBy(() -> write(f, 0, "x")).isInstanceOf(NonWritableChannelException.class);
            assertThatThrownBy(() -> f.truncate(0)).isInstanceOf(NonWritableChannelException.class);
        }
    }

    @Test
    void closedHandlesThrowClosedChannel() throws IOException {
        StorageFile f = env.openForWrite(FILE);
        f.close();
        assertThatThrownBy(f::size).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void aHandleFollowsItsFileThroughARename() throws IOException {
        Path renamed = DIR.resolve("renamed");
        try (StorageFile f = env.openForWrite(FILE)) {
            env.rename(FILE, renamed);
            write(f, 0, "still mine");
        }
        assertThat(text(renamed)).isEqualTo("still mine");
    }

    @Test
    void renameOfAMissingSourceThrowsNoSuchFile() {
        assertThatThrownBy(() -> env.rename(FILE, DIR.resolve("x"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void renameIntoAMissingDirectoryThrowsNoSuchFileAndKeepsTheSource() throws IOException {
        createDurably(FILE, "abc");
        assertThatThrownBy(() -> env.rename(FILE, Path.of("/nowhere/x"))).isInstanceOf(NoSuchFileException.class);
        assertThat(env.exists(FILE)).isTrue();
    }

    @Test
    void deleteReturnsWhetherTheFileExisted() throws IOException {
        createDurably(FILE, "");
        assertThat(env.delete(FILE)).isTrue();
        assertThat(env.delete(FILE)).isFalse();
        assertThat(env.delete(Path.of("/nowhere/x"))).isFalse();
    }

    @Test
    void deletingADirectoryRequiresItToBeEmpty() throws IOException {
        Path sub = DIR.resolve("sub");
        env.createDirectories(sub);
        createDurably(FILE, "");

        assertThatThrownBy(() -> env.delete(DIR)).isInstanceOf(DirectoryNotEmptyException.class);
        assertThat(env.delete(sub)).isTrue();
        assertThat(env.exists(sub)).isFalse();
    }

    @Test
    void listReturnsTheFilesSortedByNameWithoutSubdirectories() throws IOException {
        for (String name : List.of("b", "c", "a")) {
            env.openForWrite(DIR.resolve(name)).close();
        }
        env.createDirectories(DIR.resolve("subdir"));
        env.openForWrite(DIR.resolve("subdir/nested")).close();

        assertThat(env.list(DIR)).containsExactly(DIR.resolve("a"), DIR.resolve("b"), DIR.resolve("c"));
    }

    @Test
    void listOfAMissingDirectoryIsEmpty() throws IOException {
        assertThat(env.list(Path.of("/nowhere"))).isEmpty();
    }

    @Test
    void syncOfAMissingDirectoryThrowsNoSuchFile() {
        assertThatThrownBy(() -> env.syncDirectory(Path.of("/nowhere"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void createDirectoriesOverAFileFails() throws IOException {
        createDurably(FILE, "");
        assertThatThrownBy(() -> env.createDirectories(FILE)).isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> env.createDirectories(FILE.resolve("below")))
                .isInstanceOf(FileAlreadyExistsException.class);
    }

    @Test
    void pathsAreNormalizedAndMadeAbsolute() throws IOException {
        createDurably(FILE, "same");
        assertThat(text(Path.of("/db/./sub/../000001.log"))).isEqualTo("same");

        Path relative = Path.of("relative-dir", "f");
        env.createDirectories(relative.getParent());
        env.openForWrite(relative).close();
        assertThat(env.exists(relative.toAbsolutePath())).isTrue();
    }

    // ---------------------------------------------------------------- helpers

    /** Creates {@code path} with {@code content}, forced and with its name synced. */
    private void createDurably(Path path, String content) throws IOException {
        try (StorageFile f = env.openForWrite(path)) {
            f.truncate(0);
            write(f, 0, content);
            f.force();
        }
        env.syncDirectory(path.getParent());
    }

    private static void write(StorageFile f, long position, String s) throws IOException {
        f.write(position, ByteBuffer.wrap(s.getBytes(UTF_8)));
    }

    private String text(Path path) throws IOException {
        return new String(env.readAllBytes(path), UTF_8);
    }

    private interface IoCall {
        void run() throws IOException;
    }

    private static IOException catchIo(IoCall call) {
        try {
            call.run();
        } catch (IOException e) {
            return e;
        }
        throw new AssertionError("expected an IOException");
    }

    private static void assertDead(StorageFile f, String message) {
        assertThatThrownBy(() -> f.read(0, ByteBuffer.allocate(1))).isInstanceOf(IOException.class).hasMessage(message);
        assertThatThrownBy(() -> write(f, 0, "x")).isInstanceOf(IOException.class).hasMessage(message);
        assertThatThrownBy(f::force).isInstanceOf(IOException.class).hasMessage(message);
        assertThatThrownBy(f::size).isInstanceOf(IOException.class).hasMessage(message);
        assertThatThrownBy(() -> f.truncate(0)).isInstanceOf(IOException.class).hasMessage(message);
    }
}
