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
    /** Missing or empty: a database may be created. */
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

    private static boolean isEmptyDirectory(Path dir) {
        try (var stream = Files.list(dir)) {
            return stream.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
