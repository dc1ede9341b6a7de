package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.FileStorageEnv;
import dev.redoubt.common.PowerLossStorageEnv;
import dev.redoubt.common.StorageFile;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.WriteBatch;
import dev.redoubt.testsupport.TestFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot directory on its own: what is written reads back, what is partial, damaged or strangely named is
 * never used (skipped with a warning, or set aside after a failed verification), retention deletes crash-safely,
 * and replacing the engine with a snapshot survives a crash at each step.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DbSnapshotStorageTest {
    private static final DbOptions SMALL = DbOptions.defaults().walSegmentBytes(256 * 1024).memtableBytes(256 * 1024);

    @TempDir
    Path tmp;

    private Db db;
    private Path sm;
    private final DbSnapshotStorage storage = new DbSnapshotStorage();

    @BeforeEach
    void open() throws IOException {
        db = Db.open(tmp.resolve("db"), SMALL);
        sm = tmp.resolve("sm");
        storage.init(sm);
    }

    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
    }

    /** Writes keys 0..n-1 and the applied record (term, index), then snapshots them. */
    private DbSnapshotStorage.DbSnapshot snapshot(long term, long index, int n) throws IOException {
        WriteBatch batch = new WriteBatch();
        for (int i = 0; i < n; i++) {
            batch.put(RaftKeySpace.stored(key(i)), ("v" + index + "-" + i).getBytes(StandardCharsets.UTF_8));
        }
        batch.put(RaftKeySpace.APPLIED_KEY, ByteBuffer.allocate(16).putLong(term).putLong(index).array());
        db.write(batch);
        return storage.write(TermIndex.valueOf(term, index), db::checkpoint);
    }

    @Test
    void aWrittenSnapshotIsTheLatestAndListsItsCheckpointAndManifestWithDigests() throws IOException {
        DbSnapshotStorage.DbSnapshot s = snapshot(2, 10, 100);
        assertThat(storage.latest().termIndex()).isEqualTo(TermIndex.valueOf(2, 10));
        assertThat(s.dir().getFileName().toString()).isEqualTo("snapshot.00000000000000000002_00000000000000000010");
        List<FileInfo> files = storage.getLatestSnapshot().getFiles();
        assertThat(files).extracting(f -> s.dir().relativize(f.getPath()).toString())
                .contains("CURRENT", SnapshotManifest.FILE_NAME)
                .anyMatch(p -> p.startsWith("sst/"));
        assertThat(files.get(files.size() - 1).getPath().getFileName().toString()).isEqualTo(SnapshotManifest.FILE_NAME);
        assertThat(files).allMatch(f -> f.getFileDigest() != null && f.getPath().startsWith(sm));
        DbSnapshotStorage.verify(s);

        DbSnapshotStorage fresh = new DbSnapshotStorage();
        fresh.init(sm);
        assertThat(fresh.latest().termIndex()).isEqualTo(TermIndex.valueOf(2, 10));
    }

    @Test
    void aSnapshotWithoutItsManifestIsPartialAndNotUsed() throws IOException {
        snapshot(1, 10, 10);
        Path copy = copyAs(storage.latest(), 1, 20);
        Files.delete(copy.resolve(SnapshotManifest.FILE_NAME));
        assertThat(storage.refresh().index()).isEqualTo(10);
    }

    @Test
    void aSnapshotWithATruncatedFileIsNotUsed() throws IOException {
        snapshot(1, 10, 10);
        DbSnapshotStorage.DbSnapshot twenty = snapshot(1, 20, 50);
        Path sst = anySst(twenty.dir());
        byte[] bytes = Files.readAllBytes(sst);
        Files.delete(sst); // a hard link: replace it rather than write through to the engine's table
        Files.write(sst, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThat(storage.refresh().index()).isEqualTo(10);
    }

    @Test
    void aSnapshotWhoseNameAndManifestDisagreeIsNotUsed() throws IOException {
        snapshot(1, 10, 10);
        copyAs(storage.latest(), 1, 30); // the manifest inside still says index 10
        assertThat(storage.refresh().index()).isEqualTo(10);
    }

    @Test
    void aDamagedManifestIsNotUsed() throws IOException {
        snapshot(1, 10, 10);
        DbSnapshotStorage.DbSnapshot twenty = snapshot(1, 20, 10);
        Path manifest = twenty.dir().resolve(SnapshotManifest.FILE_NAME);
        String text = Files.readString(manifest).replace("index 20", "index 21");
        Files.writeString(manifest, text);
        assertThatThrownBy(() -> SnapshotManifest.read(manifest)).isInstanceOf(StorageException.class)
                .hasMessageContaining("checksum");
        assertThat(storage.refresh().index()).isEqualTo(10);
    }

    @Test
    void namesThatDoNotParseStrictlyAreIgnored() throws IOException {
        snapshot(1, 10, 10);
        DbSnapshotStorage.DbSnapshot ten = storage.latest();
        for (String bad : new String[] {"snapshot.1_40", "snapshot.0000000000000000000x_00000000000000000040",
                "snapshot.00000000000000000001_00000000000000000040.bak", "snapshot.99999999999999999999_00000000000000000040"}) {
            TestFiles.copyTree(ten.dir(), sm.resolve(bad));
        }
        assertThat(storage.refresh().index()).isEqualTo(10);
        assertThat(storage.complete()).hasSize(1);
    }

    @Test
    void aSnapshotWhoseBytesChangedFailsVerificationAndIsSetAsideForGood() throws IOException {
        snapshot(1, 10, 10);
        DbSnapshotStorage.DbSnapshot twenty = snapshot(1, 20, 50);
        Path sst = anySst(twenty.dir());
        byte[] bytes = Files.readAllBytes(sst);
        bytes[bytes.length / 2] ^= 0x40; // same size: only the digest tells
        Files.delete(sst);
        Files.write(sst, bytes);
        assertThat(storage.refresh().index()).isEqualTo(20);
        assertThatThrownBy(() -> DbSnapshotStorage.verify(storage.latest()))
                .isInstanceOf(StorageException.class)
                .matches(e -> ((StorageException) e).code() == ErrorCode.CORRUPTION)
                .hasMessageContaining("MD5");
        storage.setAside(storage.latest());
        assertThat(storage.latest().index()).isEqualTo(10);
        assertThat(sm.resolve("damaged." + DbSnapshotStorage.suffix(1, 20))).isDirectory();
    }

    @Test
    void leftoversOfAnInterruptedWriteOrDeleteAreRemovedAtStart() throws IOException {
        snapshot(1, 10, 10);
        TestFiles.copyTree(storage.latest().dir(), sm.resolve("partial." + DbSnapshotStorage.suffix(1, 20)));
        TestFiles.copyTree(storage.latest().dir(), sm.resolve("deleting." + DbSnapshotStorage.suffix(1, 5)));
        DbSnapshotStorage fresh = new DbSnapshotStorage();
        fresh.init(sm);
        try (Stream<Path> children = Files.list(sm)) {
            assertThat(children.map(p -> p.getFileName().toString()))
                    .containsExactly("snapshot." + DbSnapshotStorage.suffix(1, 10));
        }
    }

    @Test
    void retentionKeepsTheNewestSnapshotsAndDeletesOlderOnes() throws IOException {
        for (int i = 1; i <= 4; i++) {
            snapshot(1, i * 10L, 10 * i);
        }
        storage.cleanupOldSnapshots(new SnapshotRetentionPolicy() {
            @Override
            public int getNumSnapshotsRetained() {
                return 2;
            }
        });
        assertThat(storage.complete()).extracting(DbSnapshotStorage.DbSnapshot::index).containsExactly(40L, 30L);
        try (Stream<Path> children = Files.list(sm)) {
            assertThat(children).hasSize(2);
        }
    }

    @Test
    void digestsOfTablesSharedWithThePreviousSnapshotAreRight() throws IOException {
        DbSnapshotStorage.DbSnapshot first = snapshot(1, 10, 100);
        DbSnapshotStorage.DbSnapshot second = snapshot(1, 20, 100);
        DbSnapshotStorage.verify(first);
        DbSnapshotStorage.verify(second);
        assertThat(second.manifest().files()).extracting(SnapshotManifest.Entry::path)
                .containsAll(first.manifest().files().stream().map(SnapshotManifest.Entry::path)
                        .filter(p -> p.startsWith("sst/")).toList());
    }

    @Test
    void aTableSharedWithThePreviousSnapshotKeepsItsRecordedDigestInsteadOfBeingReadAgain() throws IOException {
        DbSnapshotStorage.DbSnapshot first = snapshot(1, 10, 100);
        String sharedTable = first.manifest().files().stream().map(SnapshotManifest.Entry::path)
                .filter(p -> p.startsWith("sst/")).findFirst().orElseThrow();
        String marker = "0123456789abcdef0123456789abcdef";
        List<SnapshotManifest.Entry> marked = first.manifest().files().stream()
                .map(e -> e.path().equals(sharedTable) ? new SnapshotManifest.Entry(e.path(), e.size(), marker) : e)
                .toList();
        Path manifest = first.dir().resolve(SnapshotManifest.FILE_NAME);
        Files.delete(manifest);
        new SnapshotManifest(1, 10, marked).write(manifest);
        storage.refresh();

        DbSnapshotStorage.DbSnapshot second = snapshot(1, 20, 100);
        assertThat(second.manifest().files()).contains(new SnapshotManifest.Entry(sharedTable,
                Files.size(second.dir().resolve(sharedTable)), marker));
    }

    @Test
    void replacingTheEngineInstallsTheCheckpointAndKeepsTheSnapshotAsItWas() throws IOException {
        DbSnapshotStorage.DbSnapshot s = snapshot(3, 42, 200);
        db.close();
        db = null;
        Path member = tmp.resolve("member-db");
        try (Db other = Db.open(member, SMALL)) {
            other.put(RaftKeySpace.stored(key(9999)), "old".getBytes(StandardCharsets.UTF_8));
        }
        DbInstall.replace(FileStorageEnv.INSTANCE, member, s);
        try (Db installed = Db.open(member, SMALL)) {
            assertThat(installed.get(RaftKeySpace.stored(key(9999)))).isNull();
            assertThat(installed.get(RaftKeySpace.stored(key(199)))).isEqualTo("v42-199".getBytes(StandardCharsets.UTF_8));
            assertThat(ByteBuffer.wrap(installed.get(RaftKeySpace.APPLIED_KEY)).getLong(8)).isEqualTo(42);
            installed.put(RaftKeySpace.stored(key(1)), "changed".getBytes(StandardCharsets.UTF_8));
            installed.flush();
        }
        DbSnapshotStorage.verify(s); // the engine wrote its own manifest, not the snapshot's
        assertThat(DbInstall.installing(member)).doesNotExist();
        assertThat(DbInstall.old(member)).doesNotExist();
    }

    /**
     * The engine runs on a file layer with state of its own (here the process-held page cache of
     * {@link PowerLossStorageEnv}): the swap goes through it, so the new engine is read from its own files, never
     * through what the layer remembers of the old engine's files of the same names (unsynced bytes, deletes not
     * yet fsynced). Found by the Raft nemesis: a follower installing a snapshot read the old engine's length for
     * the snapshot's manifest ("corrupt at offset 0") and its state machine stopped.
     */
    @Test
    void replacingAnEngineOnAStatefulFileLayerReadsTheNewEngineFromItsOwnFiles() throws IOException {
        DbSnapshotStorage.DbSnapshot s = snapshot(3, 42, 200);
        db.close();
        db = null;
        String manifestName = s.manifest().files().stream().map(SnapshotManifest.Entry::path)
                .filter(p -> p.startsWith("MANIFEST-")).findFirst().orElseThrow();
        String tableName = s.manifest().files().stream().map(SnapshotManifest.Entry::path)
                .filter(p -> p.startsWith("sst/")).findFirst().orElseThrow();
        Path member = tmp.resolve("member-db");
        PowerLossStorageEnv env = new PowerLossStorageEnv();
        try (Db other = Db.open(env, member, SMALL)) {
            other.put(RaftKeySpace.stored(key(9999)), "old".getBytes(StandardCharsets.UTF_8));
        }
        // the old engine's files under the snapshot's names: one with unsynced bytes, one deleted, not yet fsynced
        try (StorageFile f = env.openForWrite(member.resolve(manifestName))) {
            f.write(0, ByteBuffer.wrap("old".getBytes(StandardCharsets.UTF_8)));
        }
        try (StorageFile f = env.openForWrite(member.resolve(tableName))) {
            f.write(0, ByteBuffer.wrap("an old table".getBytes(StandardCharsets.UTF_8)));
            f.force();
        }
        env.delete(member.resolve(tableName));

        DbInstall.replace(env, member, s);

        try (Db installed = Db.open(env, member, SMALL)) {
            assertThat(installed.get(RaftKeySpace.stored(key(9999)))).isNull();
            assertThat(installed.get(RaftKeySpace.stored(key(199)))).isEqualTo("v42-199".getBytes(StandardCharsets.UTF_8));
            assertThat(ByteBuffer.wrap(installed.get(RaftKeySpace.APPLIED_KEY)).getLong(8)).isEqualTo(42);
        }
        assertThat(DbInstall.old(member)).doesNotExist();
    }

    @Test
    void aCrashBetweenTheTwoRenamesRollsBackToTheOldEngine() throws IOException {
        Path member = tmp.resolve("member-db");
        try (Db other = Db.open(member, SMALL)) {
            other.put(key(1), "old".getBytes(StandardCharsets.UTF_8));
        }
        // the state after step 2: the old engine moved aside, the new one complete but not yet in place
        Files.move(member, DbInstall.old(member));
        Files.createDirectories(DbInstall.installing(member).resolve("sst"));
        DbInstall.recover(FileStorageEnv.INSTANCE, member);
        assertThat(DbInstall.installing(member)).doesNotExist();
        assertThat(DbInstall.old(member)).doesNotExist();
        try (Db back = Db.open(member, SMALL)) {
            assertThat(back.get(key(1))).isEqualTo("old".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aCrashAfterTheSwapDeletesTheOldEngine() throws IOException {
        Path member = tmp.resolve("member-db");
        try (Db other = Db.open(member, SMALL)) {
            other.put(key(1), "new".getBytes(StandardCharsets.UTF_8));
        }
        Files.createDirectories(DbInstall.old(member).resolve("sst"));
        DbInstall.recover(FileStorageEnv.INSTANCE, member);
        assertThat(DbInstall.old(member)).doesNotExist();
        try (Db kept = Db.open(member, SMALL)) {
            assertThat(kept.get(key(1))).isEqualTo("new".getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A copy of {@code s}'s files under the name of snapshot (term, index), manifest unchanged. */
    private Path copyAs(DbSnapshotStorage.DbSnapshot s, long term, long index) throws IOException {
        Path target = sm.resolve("snapshot." + DbSnapshotStorage.suffix(term, index));
        TestFiles.copyTree(s.dir(), target);
        return target;
    }

    private static Path anySst(Path snapshotDir) throws IOException {
        try (Stream<Path> files = Files.list(snapshotDir.resolve("sst"))) {
            return files.sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    private static byte[] key(int i) {
        return String.format("key-%05d", i).getBytes(StandardCharsets.UTF_8);
    }
}
