package dev.redoubt.replication.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.replication.raft.RaftGroupNode;
import dev.redoubt.testsupport.Await;
import dev.redoubt.testsupport.FreePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The primary record kept by a three-member failover group in this JVM: the rules hold through Ratis. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FailoverGroupTest {
    private static final int LEASE = 10_000;
    private static final int SNAPSHOT_EVERY = 40;

    @TempDir
    Path tmp;

    private final List<RaftGroupNode.Peer> peers = new ArrayList<>();
    private final Map<String, FailoverGroupMember> running = new LinkedHashMap<>();

    @AfterEach
    void stop() throws IOException {
        for (FailoverGroupMember m : running.values()) {
            m.close();
        }
    }

    @Test
    void aTakeoverCommitsOnlyOnTheLatestRenewalAndTheRecordSurvivesARestartFromItsSnapshot() throws Exception {
        for (String id : List.of("a", "b", "w")) {
            peers.add(new RaftGroupNode.Peer(id, new InetSocketAddress("127.0.0.1", FreePorts.loopback())));
        }
        for (RaftGroupNode.Peer p : peers) {
            start(p.id());
        }
        try (FailoverGroupClient client = FailoverGroupClient.connect(peers, null, 3_000, 20)) {
            assertThat(client.read()).isEqualTo(PrimaryRecord.initial(LEASE));
            PrimaryRecord promoted = client.propose(PrimaryRecordCommand.promote(1, "a")).record();
            assertThat(promoted.holder()).isEqualTo("a");
            long staleRenewal = promoted.renewalIndex();
            long latest = staleRenewal;
            // Enough renewals for a snapshot and a purge of the log behind it.
            for (int i = 0; i < 3 * SNAPSHOT_EVERY; i++) {
                PrimaryRecord.Outcome o = client.propose(PrimaryRecordCommand.renew(1, "a"));
                assertThat(o.accepted()).isTrue();
                latest = o.record().renewalIndex();
            }
            PrimaryRecord.Outcome stale = client.propose(PrimaryRecordCommand.takeover(2, "b", staleRenewal));
            assertThat(stale.accepted()).isFalse();
            assertThat(stale.refusal()).contains("lease may still hold");

            // The holder's member goes away; b and the witness are a majority and take over on the latest renewal.
            running.remove("a").close();
            PrimaryRecord.Outcome taken = client.propose(PrimaryRecordCommand.takeover(2, "b", latest));
            assertThat(taken.refusal()).isNull();
            assertThat(client.read()).isEqualTo(new PrimaryRecord(2, "b", LEASE, taken.record().renewalIndex()));
            assertThat(client.propose(PrimaryRecordCommand.renew(1, "a")).accepted()).as("the old holder").isFalse();

            // The old holder's member returns and learns the record: from the snapshot and the log after it.
            FailoverGroupMember a = start("a");
            Await.until(() -> a.record().equals(taken.record()), "member a caught up with epoch 2");
            running.remove("w").close();
            FailoverGroupMember w = start("w");
            Await.until(() -> w.record().equals(taken.record()), "the witness restarted on its files");
            try (var files = java.nio.file.Files.walk(tmp.resolve("w"))) {
                assertThat(files.anyMatch(f -> f.getFileName().toString().startsWith("snapshot.")))
                        .as("the witness snapshotted its record").isTrue();
            }
        }
    }

    @Test
    void aMemberThatStartsAfterTheOthersFormedTheGroupCatchesUp() throws Exception {
        for (String id : List.of("a", "b", "w")) {
            peers.add(new RaftGroupNode.Peer(id, new InetSocketAddress("127.0.0.1", FreePorts.loopback())));
        }
        start("w");
        start("a");
        try (FailoverGroupClient client = FailoverGroupClient.connect(peers, null, 3_000, 20)) {
            client.propose(PrimaryRecordCommand.promote(1, "a"));
            // Renewals keep coming while b is not there yet, as a holder's do.
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread renewer = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        client.propose(PrimaryRecordCommand.renew(1, "a"));
                        Thread.sleep(200);
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            renewer.start();
            try {
                Thread.sleep(3_000);
                FailoverGroupMember b = start("b");
                Await.until(() -> b.record().renewalIndex() > 20, "the late member b applies the renewals (has "
                        + b.record() + ")", 30);
            } finally {
                stop.set(true);
                renewer.join();
            }
        }
    }

    private FailoverGroupMember start(String id) {
        FailoverGroupMember m = FailoverGroupMember.start(tmp.resolve(id).resolve("failover"), id, peers, LEASE, null, SNAPSHOT_EVERY);
        running.put(id, m);
        return m;
    }


}
