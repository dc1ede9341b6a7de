package dev.redoubt.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Deleting a directory and everything under it: the one way the project does it. Not atomic: a crash midway
 * leaves part of the tree, so a caller that needs all-or-nothing renames the tree out of the way first and
 * deletes the renamed copy.
 */
public final class DirectoryTrees {
    private DirectoryTrees() {
    }

    /** Deletes {@code root} and everything under it on the real file system; a missing {@code root} is fine. */
    public static void deleteTree(Path root) throws IOException {
        for (Path p : childrenFirst(root)) {
            Files.deleteIfExists(p);
        }
    }

    /**
     * As {@link #deleteTree(Path)}, through {@code env}, for a tree a file layer may know files of (an engine's
     * directory): each file deleted through it, each directory fsynced through it (which makes the deletes in it
     * happen) and then deleted. The tree is listed on the real file system.
     */
    public static void deleteTree(StorageEnv env, Path root) throws IOException {
        for (Path p : childrenFirst(root)) {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                env.syncDirectory(p);
            }
            env.delete(p);
        }
    }

    /** Every path under {@code root} and {@code root} itself, each directory after what it holds; none if missing. */
    private static List<Path> childrenFirst(Path root) throws IOException {
        if (root == null || !Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.sorted(Comparator.reverseOrder()).toList();
        }
    }
}
