package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link SnapshotGuard} counts as a failed install in Ratis' tmp directory, and what it leaves alone. */
class SnapshotGuardTest {
    @TempDir
    Path tmp;

    @Test
    void onlyDirectoriesHoldingAFileRatisMarkedCorruptAreFailedInstalls() throws IOException {
        Path failed = file("snapshot-1/snapshot.00000000000000000001_00000000000000000599/sst/000011.sst.corrupt20261122-193336_064");
        file("snapshot-1/snapshot.00000000000000000001_00000000000000000599/CURRENT");
        file("snapshot-2/snapshot.00000000000000000001_00000000000000000799/sst/000011.sst"); // in progress
        file("snapshot-2/snapshot.00000000000000000001_00000000000000000799/CURRENT.md5");
        file("a-file.corrupt-but-not-in-a-directory");

        assertThat(SnapshotGuard.failedInstalls(tmp)).containsExactly(tmp.resolve("snapshot-1"));
        assertThat(failed).exists();
    }

    @Test
    void aMissingTmpDirectoryHasNoFailedInstalls() throws IOException {
        assertThat(SnapshotGuard.failedInstalls(tmp.resolve("absent"))).isEmpty();
    }

    private Path file(String relative) throws IOException {
        Path p = tmp.resolve(relative);
        Files.createDirectories(p.getParent());
        return Files.write(p, new byte[] {1});
    }
}
