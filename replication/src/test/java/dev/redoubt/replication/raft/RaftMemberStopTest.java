package dev.redoubt.replication.raft;

import static dev.redoubt.replication.raft.InProcessGroup.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.testsupport.Await;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member whose state machine fails is stopped by Ratis (it closes the member's division) while the process
 * lives on; {@link RaftGroupNode#stoppedOnItsOwn} says so and why, and says nothing for a member that runs or
 * was closed by its owner. ({@code node start --raft} exits with that message.)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RaftMemberStopTest {
    @TempDir
    Path tmp;

    @Test
    void aMemberWhoseStateMachineFailedReportsThatRatisStoppedItAndWhy() throws Exception {
        try (InProcessGroup group = new InProcessGroup(tmp, 1)) {
            group.startFounders(1);
            RaftGroupNode member = group.node("n0");
            try (RaftKvClient client = RaftKvClient.connect(group.peers(1), 1_000, 3)) {
                client.put(bytes("k"), bytes("v"));
                assertThat(member.stoppedOnItsOwn()).as("running").isNull();

                member.stateMachine().db().close(); // the engine now refuses every write: the next apply fails
                assertThatThrownBy(() -> client.put(bytes("k"), bytes("w"))).isInstanceOf(IOException.class);
            }
            Await.until(() -> member.stoppedOnItsOwn() != null, "Ratis stops the member");
            assertThat(member.stoppedOnItsOwn()).contains("Ratis stopped this member")
                    .contains("its state machine failed: applying entry");
            assertThat(member.stateMachine().failure()).hasMessageContaining("closed");
        }
    }

    @Test
    void aMemberClosedByItsOwnerDidNotStopOnItsOwn() throws Exception {
        try (InProcessGroup group = new InProcessGroup(tmp, 1)) {
            group.startFounders(1);
            RaftGroupNode member = group.node("n0");
            group.leader();
            member.close();
            assertThat(member.stoppedOnItsOwn()).isNull();
            assertThat(member.stateMachine().failure()).isNull();
        }
    }
}
