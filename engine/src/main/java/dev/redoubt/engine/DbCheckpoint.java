package dev.redoubt.engine;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.wal.RecordFile;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@link Db#checkpoint}: an openable copy made of hard links to the live tables and a manifest naming them.
 * The copy has no WAL; a Db opened on it starts its log above every sequence in its tables.
 */
final class DbCheckpoint {
    private DbCheckpoint() {
    }

    /** Returns the copy's checkpoint LSN. */
    static long write(StorageEnv env, Path source, Path target, Version version, long checkpointLsn, long epoch)
            throws IOException {
        if (env.exists(target.resolve(DbFiles.CURRENT)) || !env.list(target).isEmpty()) {
            throw new StorageException(ErrorCode.INVALID_STATE, "checkpoint target " + target
                    + " is not empty; choose a new directory");
        }
        env.createDirectories(target.resolve(DbFiles.SST_DIR));
        long maxNumber = 0;
        long maxSequence = -1;
        VersionEdit snapshot = version.asEdit();
        for (VersionEdit.Added a : snapshot.added) {
            env.link(DbFiles.sstPath(source, a.file().number()), DbFiles.sstPath(target, a.file().number()));
            maxNumber = Math.max(maxNumber, a.file().number());
            maxSequence = Math.max(maxSequence, a.file().maxSequence());
        }
        env.syncDirectory(target.resolve(DbFiles.SST_DIR));
        long manifestNumber = maxNumber + 1;
        snapshot.checkpointLsn = Math.max(checkpointLsn, maxSequence + 1);
        snapshot.nextFileNumber = manifestNumber + 1;
        snapshot.epoch = epoch;
        String name = DbFiles.manifestName(manifestNumber);
        try (RecordFile manifest = RecordFile.create(env, target.resolve(name))) {
            VersionSet.writeManifestAndSwitch(manifest, env, target, name, snapshot);
        }
        return snapshot.checkpointLsn;
    }
}
