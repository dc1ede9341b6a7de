package dev.redoubt.replication.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Group credentials made once per test JVM (keytool takes about a second each) and shared by the test classes:
 * the group's, and another group's (a different key). Deleted when the JVM exits.
 */
public final class TestCredentials {
    private static Path root;
    private static Path group;
    private static Path other;

    private TestCredentials() {
    }

    /** The directory of the credential the tests' group uses. */
    static synchronized Path groupDir() {
        if (group == null) {
            group = make("group");
        }
        return group;
    }

    /** The directory of a credential of another group. */
    static synchronized Path otherDir() {
        if (other == null) {
            other = make("other");
        }
        return other;
    }

    public static RaftTls group() {
        return RaftTls.load(groupDir());
    }

    public static RaftTls other() {
        return RaftTls.load(otherDir());
    }

    private static Path make(String name) {
        Path dir = root().resolve(name);
        RaftTlsInit.create(dir, 30);
        return dir;
    }

    private static Path root() {
        if (root == null) {
            try {
                root = Files.createTempDirectory("redoubt-raft-tls");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path r = root;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(r)));
        }
        return root;
    }

    private static void delete(Path dir) {
        try {
            dev.redoubt.common.DirectoryTrees.deleteTree(dir);
        } catch (IOException e) {
            // best effort at exit
        }
    }
}
