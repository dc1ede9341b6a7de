package dev.redoubt.replication.raft;

import static dev.redoubt.replication.raft.InProcessGroup.bytes;
import static dev.redoubt.replication.raft.InProcessGroup.key;
import static dev.redoubt.replication.raft.InProcessGroup.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.KeyValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Stale reads from a chosen member with their bound, and paged linearizable scans, on three members in this JVM. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RaftReadsTest {
    @TempDir
    Path tmp;

    private InProcessGroup group;

    @BeforeEach
    void start() throws Exception {
        group = new InProcessGroup(tmp, 3);
        group.startFounders(3);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    @Test
    void aStaleReadFromAFollowerReportsItsAppliedIndexAndHowFarBehindTheLeaderItMayBe() throws Exception {
        try (RaftKvClient client = RaftKvClient.connect(group.peers(3))) {
            long index = client.put(key(1), value(1));
            String follower = group.follower(group.peers(3));
            StaleRead read = client.getStale(key(1), follower, index);
            assertThat(read.value()).isEqualTo(value(1));
            assertThat(read.member()).isEqualTo(follower);
            assertThat(read.appliedIndex()).isGreaterThanOrEqualTo(index);
            assertThat(read.boundKnown()).isTrue();
            assertThat(read.leaderCommitIndex()).isGreaterThanOrEqualTo(read.appliedIndex());
            assertThat(read.lag()).isEqualTo(read.leaderCommitIndex() - read.appliedIndex());
            assertThat(client.getStale(bytes("absent"), follower, 0).value()).isNull();
        }
    }

    @Test
    void aStaleReadAtAMinimumIndexNoMemberHasCommittedFailsAtOnceSayingWhy() throws Exception {
        try (RaftKvClient client = RaftKvClient.connect(group.peers(3))) {
            long index = client.put(key(1), value(1));
            String follower = group.follower(group.peers(3));
            assertThatThrownBy(() -> client.getStale(key(1), follower, index + 1_000_000))
                    .isInstanceOf(StorageException.class)
                    .satisfies(e -> assertThat(((StorageException) e).code()).isEqualTo(ErrorCode.INVALID_STATE))
                    .hasMessageContaining("minimum index " + (index + 1_000_000)).hasMessageContaining(follower);
            assertThatThrownBy(() -> client.getStale(key(1), "n9", 0)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aScanPagesThroughTheGroupInKeyOrderAndShowsClientKeysOnly() throws Exception {
        int n = RaftCommand.MAX_SCAN_ENTRIES + 150;
        try (RaftKvClient client = RaftKvClient.connect(group.peers(3))) {
            for (int i = 0; i < n; i++) {
                client.put(key(i), value(i));
            }
            client.delete(key(5));

            List<KeyValue> all = drain(client.scan(null, null, Long.MAX_VALUE));
            assertThat(all).hasSize(n - 1);
            assertThat(all.get(0).key()).isEqualTo(key(0));
            assertThat(all.get(5).key()).isEqualTo(key(6));
            assertThat(all.get(n - 2).value()).isEqualTo(value(n - 1));
            for (int i = 1; i < all.size(); i++) {
                assertThat(Arrays.compareUnsigned(all.get(i - 1).key(), all.get(i).key())).isNegative();
            }

            QueryAnswer.Page first = client.scanPage(null, null, RaftCommand.MAX_SCAN_ENTRIES);
            assertThat(first.entries()).hasSize(RaftCommand.MAX_SCAN_ENTRIES);
            assertThat(first.more()).isTrue();

            assertThat(drain(client.scan(key(100), key(200), Long.MAX_VALUE))).hasSize(100);
            assertThat(drain(client.scan(key(100), null, 7))).extracting(KeyValue::key).containsExactly(
                    key(100), key(101), key(102), key(103), key(104), key(105), key(106));
            assertThat(drain(client.scan(key(200), key(100), Long.MAX_VALUE))).isEmpty();
        }
    }

    private static List<KeyValue> drain(java.util.Iterator<KeyValue> it) {
        List<KeyValue> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
