package dev.redoubt.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryTreesTest {
    @TempDir
    Path tmp;

    @Test
    void aTreeIsDeletedWholeDirectlyOrThroughAFileLayerAndAMissingOneIsFine() throws Exception {
        for (boolean throughEnv : new boolean[] {false, true}) {
            Path root = tmp.resolve("tree-" + throughEnv);
            Files.createDirectories(root.resolve("a/b/c"));
            Files.writeString(root.resolve("a/one"), "1");
            Files.writeString(root.resolve("a/b/c/two"), "2");
            Files.writeString(root.resolve("three"), "3");
            if (throughEnv) {
                DirectoryTrees.deleteTree(FileStorageEnv.INSTANCE, root);
            } else {
                DirectoryTrees.deleteTree(root);
            }
            assertThat(root).doesNotExist();
            DirectoryTrees.deleteTree(root);
            DirectoryTrees.deleteTree(FileStorageEnv.INSTANCE, root);
        }
        assertThat(tmp).isDirectory();
    }
}
