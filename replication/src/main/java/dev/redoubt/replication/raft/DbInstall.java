package dev.redoubt.replication.raft;

import dev.redoubt.common.DirectoryTrees;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a member's engine directory with a snapshot's checkpoint, crash-safely: after a crash at any point the
 * engine directory holds either the old engine or the new one, whole, never a mix. {@link #install} is the whole
 * sequence (close the engine, replace its directory, reopen it, check what it holds); {@link #replace} and
 * {@link #recover} are its file steps, which REQUIRE that no {@code Db} is open on the directory.
 *
 * <p>Thread-safety: no state of its own; not safe for two calls on one directory at once. The state machine calls
 * it from its one update thread holding its apply lock ({@code applyLock}, which serializes every change to the
 * engine), and {@link #install} holds the engine's swap lock (the write lock readers wait on) while no engine is
 * open.
 *
 * <p>The engine's directories are renamed and deleted through the engine's {@code StorageEnv} (which must be
 * one on the real file system), so a file layer that keeps state per file carries it along; the new engine is
 * built with plain file operations under a name the engine never uses.
 *
 * <p>Names, all beside the engine directory {@code <name>} (for a member: {@code db}):
 * <pre>
 * &lt;name&gt;.installing/   the new engine being built: the snapshot's tables hard-linked (the engine never
 *                       changes a table), its CURRENT and MANIFEST copied (an open engine writes to them, and the
 *                       snapshot must stay as it was: it may be shipped to other members)
 * &lt;name&gt;.old/          the replaced engine, until it is deleted
 * </pre>
 * Steps: 1. build {@code <name>.installing} and fsync every file and directory in it; 2. rename {@code <name>} to
 * {@code <name>.old}; 3. rename {@code <name>.installing} to {@code <name>} and fsync the parent; 4. delete
 * {@code <name>.old}. {@link #recover}, run before every open, finishes or undoes what a crash cut short:
 * <ul>
 *   <li>{@code <name>} missing and {@code <name>.old} present (crash between 2 and 3): {@code <name>.old} is
 *       renamed back; the old engine is whole, and the snapshot, still newer, is installed again;</li>
 *   <li>{@code <name>.installing} present: deleted (not complete, or superseded by that rollback);</li>
 *   <li>{@code <name>.old} present beside {@code <name>}: deleted (step 4 cut short).</li>
 * </ul>
 */
final class DbInstall {
    private static final Logger LOG = LoggerFactory.getLogger(DbInstall.class);
    /** The fix when a received snapshot cannot become the engine (Ratis has already trimmed the log past it). */
    static final String REJOIN = "the member stops: delete its directory (raft/ and db/) and start it again,"
            + " with the rest of the group running, so that it rejoins from the leader's snapshot";

    /** The engine being replaced, as its owner (the state machine) opens and closes it. */
    interface Engine {
        /** REQUIRES the swap lock. Closes the engine, if open; nothing may use it until {@link #open}. */
        void close();

        /**
         * REQUIRES the swap lock. Opens the engine in its directory and returns the applied (term, index) it holds
         * (null: none).
         */
        TermIndex open();
    }

    private DbInstall() {
    }

    static Path installing(Path db) {
        return db.resolveSibling(db.getFileName() + ".installing");
    }

    static Path old(Path db) {
        return db.resolveSibling(db.getFileName() + ".old");
    }

    /** Finishes or undoes a replacement a crash cut short (see the class comment); {@code env} is the engine's. */
    static void recover(StorageEnv env, Path db) throws IOException {
        Path parent = db.toAbsolutePath().getParent();
        boolean changed = false;
        if (!env.exists(db) && env.exists(old(db))) {
            LOG.warn("{}: a snapshot install was cut short after the old engine was moved aside; moving it back"
                    + " (the snapshot is installed again)", db);
            env.rename(old(db), db);
            changed = true;
        }
        for (Path leftover : new Path[] {installing(db), old(db)}) {
            if (Files.exists(leftover)) {
                LOG.info("{}: removing {}, left by a snapshot install that a crash cut short", db, leftover.getFileName());
                DirectoryTrees.deleteTree(env, leftover);
                changed = true;
            }
        }
        if (changed) {
            env.syncDirectory(parent);
        }
    }

    /**
     * REQUIRES the caller's apply lock and a verified {@code snapshot}. Closes {@code engine}, replaces it in
     * {@code db} with the snapshot's checkpoint ({@link #replace}), reopens it, all holding {@code swapLock}, and
     * then checks that it holds exactly the snapshot's (term, index), which it returns.
     *
     * @throws StorageException INVALID_STATE when the engine in the snapshot holds another applied (term, index):
     *     its files match its manifest, so it was written this way (the member must rejoin)
     */
    static TermIndex install(StorageEnv env, Path db, DbSnapshotStorage.DbSnapshot snapshot,
            ReentrantReadWriteLock.WriteLock swapLock, Engine engine) throws IOException {
        TermIndex held;
        swapLock.lock();
        try {
            engine.close();
            replace(env, db, snapshot);
            held = engine.open();
        } finally {
            swapLock.unlock();
        }
        if (!snapshot.termIndex().equals(held)) {
            // its files match its manifest, so it was written this way: nothing to set aside and retry; stop
            throw new StorageException(ErrorCode.INVALID_STATE, "snapshot " + snapshot.dir() + " covers "
                    + snapshot.termIndex() + " but the engine in it holds applied " + held + ", so it was not written"
                    + " by takeSnapshot; the engine in " + db + " is now that copy; " + REJOIN);
        }
        return held;
    }

    /**
     * Replaces the engine in {@code db} with the checkpoint of {@code snapshot} (already verified); {@code env} is
     * the engine's file layer.
     */
    static void replace(StorageEnv env, Path db, DbSnapshotStorage.DbSnapshot snapshot) throws IOException {
        recover(env, db);
        Path parent = db.toAbsolutePath().getParent();
        Path building = installing(db);
        Files.createDirectories(building.resolve("sst"));
        for (SnapshotManifest.Entry e : snapshot.manifest().files()) {
            Path from = snapshot.dir().resolve(e.path());
            Path to = building.resolve(e.path());
            if (e.path().startsWith("sst/")) {
                FileTrees.linkDurably(from, to);
            } else {
                FileTrees.copyDurably(from, to);
            }
        }
        FileTrees.fsyncDirectory(building.resolve("sst"));
        FileTrees.fsyncDirectory(building);
        FileTrees.fsyncDirectory(parent); // step 1 done: the new engine is complete and durable
        // The engine's directories change names through the engine's file layer, so that what it knows of the old
        // engine's files (for PowerLossStorageEnv: unsynced bytes, deletes not yet fsynced) goes with them and
        // never shows through the new engine's files of the same names.
        boolean hadOld = env.exists(db);
        if (hadOld) {
            env.rename(db, old(db));
        }
        env.rename(building, db);
        env.syncDirectory(parent);
        if (hadOld) {
            DirectoryTrees.deleteTree(env, old(db));
            env.syncDirectory(parent);
        }
    }
}
