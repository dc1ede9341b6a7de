package dev.redoubt.engine;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageEnv;
import dev.redoubt.common.StorageException;
import dev.redoubt.wal.Wal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What a directory holds, decided before anything in it is touched. */
enum DbLayout {
    /** Missing, empty, or left by a creation cut short: a database may be created. */
    NEW,
    /** Has CURRENT: a database to open. */
    EXISTING;

    static DbLayout inspect(StorageEnv env, Path dir) {
        try {
            if (env.exists(dir.resolve(DbFiles.CURRENT))) {
                return EXISTING;
            }
            List<Path> files = env.list(dir);
            boolean hasSubdirectories = env.exists(dir.resolve(Wal.WAL_DIR)) || env.exists(dir.resolve(DbFiles.SST_DIR));
            boolean realNonEmpty = Files.isDirectory(dir) && !isEmptyDirectory(dir);
            if (files.isEmpty() && !hasSubdirectories && !realNonEmpty) {
                return NEW;
            }
            if (isUnfinishedCreation(env, dir, files)) {
                return NEW;
            }
            boolean looksLikeDb = hasSubdirectories || files.stream()
                    .anyMatch(p -> DbFiles.manifestNumber(p.getFileName().toString()) >= 0);
            if (looksLikeDb) {
                throw new StorageException(ErrorCode.CORRUPTION, dir + " is a Redoubt database without its CURRENT file;"
                        + " run `redoubt db repair " + dir + "` to rebuild it from the manifest, tables and WAL");
            }
            throw new StorageException(ErrorCode.INVALID_STATE, dir + " is not empty and is not a Redoubt database;"
                    + " choose an empty or missing directory");
        } catch (IOException e) {
            throw StorageException.fromIo("reading " + dir, e);
        }
    }

    /**
     * A creation cut short by a crash or power cut inside the first open. CURRENT is the commit point of a
     * creation, and it never became durable; neither did anything that can hold data (a table, a WAL segment, a
     * quarantined byte). What is left is at most the creation's empty manifest (always number 1), CURRENT's temp
     * file and the lock file, and nothing in it was ever acknowledged: the directory is created again (the creation
     * rewrites that manifest and removes CURRENT's temp file as an orphan), rather than sent to repair.
     */
    private static boolean isUnfinishedCreation(StorageEnv env, Path dir, List<Path> files) throws IOException {
        for (Path p : files) {
            if (!isCreationLeftover(p.getFileName().toString())) {
                return false;
            }
        }
        if (!env.list(dir.resolve(DbFiles.SST_DIR)).isEmpty() || env.exists(dir.resolve(Wal.WAL_DIR))
                || env.exists(dir.resolve(Wal.LOST_DIR))) {
            return false;
        }
        if (Files.isDirectory(dir)) {
            // The env lists files only; on a real file system, any other directory is someone else's.
            try (var stream = Files.list(dir)) {
                return stream.allMatch(p -> isCreationLeftover(p.getFileName().toString())
                        || p.getFileName().toString().equals(DbFiles.SST_DIR));
            }
        }
        return true;
    }

    private static boolean isCreationLeftover(String name) {
        return name.equals(DbFiles.LOCK) || name.equals(DbFiles.CURRENT_TEMP) || name.equals(DbFiles.manifestName(1));
    }

    private static boolean isEmptyDirectory(Path dir) {
        try (var stream = Files.list(dir)) {
            return stream.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
