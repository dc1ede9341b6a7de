package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Limits;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SstWriterTest {
    static final Path DIR = SstRoundTripTest.DIR;
    static final Path TABLE = SstRoundTripTest.TABLE;

    @Test
    void entriesOutOfInternalOrderAreRefusedWithBothEntriesInTheMessage() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        try (SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults())) {
            w.add("b".getBytes(), 10, EntryKind.PUT, "v".getBytes());
            assertThatThrownBy(() -> w.add("a".getBytes(), 20, EntryKind.PUT, "v".getBytes()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("0x61, 20")
                    .hasMessageContaining("0x62, 10");
            // Same key: the sequence must go down (newest first), never repeat or go up.
            assertThatThrownBy(() -> w.add("b".getBytes(), 10, EntryKind.PUT, "v".getBytes()))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> w.add("b".getBytes(), 11, EntryKind.DELETE, null))
                    .isInstanceOf(IllegalStateException.class);
            // A refused entry leaves the writer usable.
            w.add("b".getBytes(), 9, EntryKind.DELETE, null);
            w.add("c".getBytes(), 99, EntryKind.PUT, new byte[0]);
            assertThat(w.finish().entryCount()).isEqualTo(3);
        }
        assertThat(env.exists(TABLE)).isTrue();
    }

    @Test
    void valuesAddedAsSlicesOfAnOffHeapBufferGiveTheSameTableAsArrays() throws Exception {
        Random random = new Random(11);
        List<TestEntry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < 500; i++) {
            byte[] value = new byte[random.nextInt(2000)];
            random.nextBytes(value);
            entries.add(i % 7 == 0 ? TestEntry.delete(String.format("k%04d", i), 10)
                    : new TestEntry(String.format("k%04d", i).getBytes(), 10, EntryKind.PUT, value));
        }
        SimulatedStorageEnv env = SstRoundTripTest.env();
        Path arrays = DIR.resolve("arrays.sst");
        Path slices = DIR.resolve("slices.sst");
        TableModel.write(env, arrays, SstOptions.defaults().blockBytes(1024), entries);
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(4096);
        org.agrona.concurrent.UnsafeBuffer view = new org.agrona.concurrent.UnsafeBuffer(direct);
        try (SstWriter w = new SstWriter(env, slices, SstOptions.defaults().blockBytes(1024))) {
            for (TestEntry e : entries) {
                view.putBytes(7, e.value());
                w.add(e.key(), e.sequence(), e.kind(), view, 7, e.value().length);
            }
            assertThatThrownBy(() -> w.add("z".getBytes(), 1, EntryKind.PUT, view, 4000, 200))
                    .as("a slice past the buffer").isInstanceOf(IndexOutOfBoundsException.class);
            w.finish();
        }
        try (var a = env.openForRead(arrays); var b = env.openForRead(slices)) {
            assertThat(b.size()).isEqualTo(a.size());
            java.nio.ByteBuffer x = java.nio.ByteBuffer.allocate((int) a.size());
            java.nio.ByteBuffer y = java.nio.ByteBuffer.allocate((int) b.size());
            a.read(0, x);
            b.read(0, y);
            assertThat(y.flip()).isEqualTo(x.flip());
        }
    }

    @Test
    void keysAndValuesOverTheLimitsAreRefusedWithTheLimitInTheMessage() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        try (SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults())) {
            assertThatThrownBy(() -> w.add(new byte[Limits.MAX_KEY_BYTES + 1], 1, EntryKind.PUT, new byte[0]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(Limits.MAX_KEY_BYTES));
            assertThatThrownBy(() -> w.add("k".getBytes(), 1, EntryKind.PUT, new byte[Limits.MAX_VALUE_BYTES + 1]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(Limits.MAX_VALUE_BYTES));
            assertThatThrownBy(() -> w.add("k".getBytes(), -1, EntryKind.PUT, new byte[0]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sequence");
            assertThatThrownBy(() -> w.add("k".getBytes(), 1, EntryKind.DELETE, new byte[1]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DELETE");
        }
    }

    @Test
    void optionsOutOfRangeAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> SstOptions.defaults().blockBytes(10).validate()).hasMessageContaining("blockBytes");
        assertThatThrownBy(() -> SstOptions.defaults().restartInterval(0).validate())
                .hasMessageContaining("restartInterval");
        assertThatThrownBy(() -> SstOptions.defaults().bloomBitsPerKey(-1).validate())
                .hasMessageContaining("bloomBitsPerKey");
        assertThat(SstOptions.defaults().blockBytes()).isEqualTo(4096);
        assertThat(SstOptions.defaults().restartInterval()).isEqualTo(16);
        assertThat(SstOptions.defaults().compression()).isTrue();
        assertThat(SstOptions.defaults().bloomBitsPerKey()).isEqualTo(10);
    }

    @Test
    void anEmptyTableCannotBeFinishedAndAbandonRemovesIt() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults());
        assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class).hasMessageContaining("abandon");
        w.abandon();
        assertThat(env.exists(TABLE)).isFalse();
    }

    @Test
    void abandonClosesAndDeletesAPartlyWrittenTable() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults().blockBytes(64));
        for (int i = 0; i < 100; i++) {
            w.add(String.format("k%04d", i).getBytes(), 1, EntryKind.PUT, "value".getBytes());
        }
        assertThat(env.exists(TABLE)).isTrue();
        w.abandon();
        w.abandon();
        assertThat(env.exists(TABLE)).isFalse();
        assertThatThrownBy(() -> w.add("z".getBytes(), 1, EntryKind.PUT, null)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closingWithoutFinishAbandonsButAFinishedTableStays() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        try (SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults())) {
            w.add("k".getBytes(), 1, EntryKind.PUT, null);
        }
        assertThat(env.exists(TABLE)).isFalse();
        try (SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults())) {
            w.add("k".getBytes(), 1, EntryKind.PUT, null);
            w.finish();
            assertThatThrownBy(() -> w.add("l".getBytes(), 1, EntryKind.PUT, null))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("finished");
        }
        assertThat(env.exists(TABLE)).isTrue();
    }

    @Test
    void finishFsyncsSoATablePublishedByRenameAndDirectorySyncSurvivesAPowerCut() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        Path temp = DIR.resolve("000001.sst.tmp");
        List<TestEntry> entries = TableModel.randomEntries(new Random(11), 800, 3, 100, 0.1);
        long forces = env.forceCount();
        TableModel.write(env, temp, SstOptions.defaults(), entries);
        assertThat(env.forceCount()).isEqualTo(forces + 1);
        try {
            env.rename(temp, TABLE);
            env.syncDirectory(DIR);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        env.cutPower();
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(0)); EntryIterator it = reader.iterator()) {
            assertThat(TableModel.readAll(it)).containsExactlyElementsOf(entries);
            reader.verify();
        }
    }

    @Test
    void aFullDiskFailsTheWriterWhichThenOnlyAbandons() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        env.failWritesAfterBytes(100_000);
        SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults().compression(false));
        byte[] value = new byte[1000];
        StorageException failure = null;
        for (int i = 0; i < 10_000 && failure == null; i++) {
            try {
                w.add(String.format("k%06d", i).getBytes(), 1, EntryKind.PUT, value);
            } catch (StorageException e) {
                failure = e;
            }
        }
        assertThat(failure).isNotNull();
        assertThat(failure.code()).isEqualTo(ErrorCode.NO_SPACE);
        assertThat(failure.getMessage()).contains(TABLE.toString());
        assertThatThrownBy(() -> w.add("z".getBytes(), 1, EntryKind.PUT, null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("abandon");
        w.abandon();
        assertThat(env.exists(TABLE)).isFalse();
    }

    @Test
    void aFailedFsyncFailsFinishAsAnIoError() {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        env.failForceAfter(1);
        SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults());
        w.add("k".getBytes(), 1, EntryKind.PUT, "v".getBytes());
        assertThatThrownBy(w::finish).isInstanceOfSatisfying(StorageException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.IO));
        assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class);
        w.abandon();
        assertThat(env.exists(TABLE)).isFalse();
    }

    @Test
    void anExistingFileAtThePathIsReplacedNotAppendedTo() throws Exception {
        SimulatedStorageEnv env = SstRoundTripTest.env();
        try (var f = env.openForWrite(TABLE)) {
            f.write(0, java.nio.ByteBuffer.wrap(new byte[100_000]));
        }
        SstProperties p = TableModel.write(env, TABLE, SstOptions.defaults(), List.of(TestEntry.put("k", 1, "v")));
        assertThat(env.readAllBytes(TABLE)).hasSize((int) p.fileBytes());
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(0))) {
            assertThat(reader.get("k".getBytes(), 1).value()).isEqualTo("v".getBytes());
        }
    }
}
