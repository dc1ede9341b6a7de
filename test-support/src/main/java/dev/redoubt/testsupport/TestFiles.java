package dev.redoubt.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Real-disk file helpers for tests that build damaged or partial copies of a data directory. */
public final class TestFiles {

    private TestFiles() {
    }

    /** Copies the tree under {@code from} to {@code to} (created if missing); fails if a target file exists. */
    public static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
