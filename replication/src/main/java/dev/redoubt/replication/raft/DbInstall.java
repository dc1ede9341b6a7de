package dev.redoubt.replication.raft;

import dev.redoubt.common.StorageEnv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a member's engine directory with a snapshot's checkpoint, crash-safely: after a crash at any point the
 * engine directory holds either the old engine or the new one, whole, never a mix. REQUIRES: no {@code Db} is open
 * on the directory. Not thread-safe (the state machine calls it with the database closed and its lock held).
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
                FileTrees.deleteTree(env, leftover);
                changed = true;
            }
        }
        if (changed) {
            env.syncDirectory(parent);
        }
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
            FileTrees.deleteTree(env, old(db));
            env.syncDirectory(parent);
        }
    }
}
