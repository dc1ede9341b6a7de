package dev.redoubt.replication.raft;

import static dev.redoubt.replication.raft.InProcessGroup.SMALL;
import static dev.redoubt.replication.raft.InProcessGroup.key;
import static dev.redoubt.replication.raft.InProcessGroup.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.Await;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Raft group authenticated with a group credential (mutual TLS): its members commit and serve reads; a
 * client without the credential or with another group's cannot write or read; a member with another group's
 * credential cannot join, vote or lead while the others go on; without a credential, only loopback addresses.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RaftTlsGroupTest {
    @TempDir
    Path tmp;

    private InProcessGroup group;

    @AfterEach
    void closeAll() {
        if (group != null) {
            group.close();
        }
    }

    /** Starts one member per credential on {@code host}; member i uses credential {@code credentials[i]}. */
    private void startGroup(String host, RaftTls... credentials) throws IOException {
        group = new InProcessGroup(tmp, host, credentials.length).withCredentials(credentials);
        group.startFounders(credentials.length);
    }

    @Test
    void membersWithTheGroupCredentialCommitAndServeReads() throws Exception {
        RaftTls tls = TestCredentials.group();
        startGroup("127.0.0.1", tls, tls, tls);
        long last = 0;
        try (RaftKvClient client = patientClient(tls)) {
            for (int i = 0; i < 20; i++) {
                last = client.put(key(i), value(i));
            }
            client.delete(key(3));
            assertThat(client.get(key(7))).isEqualTo(value(7));
            assertThat(client.get(key(3))).isNull();
        }
        group.awaitApplied(last);
        for (RaftGroupNode n : group.nodes()) {
            assertThat(n.stateMachine().db().get(RaftKeySpace.stored(key(19)))).isEqualTo(value(19));
        }
        try (RaftAdmin admin = RaftAdmin.connect(group.founders(), tls)) {
            assertThat(admin.status()).allSatisfy(m -> assertThat(m.reachable()).as("%s", m).isTrue());
        }
    }

    @Test
    void clientsWithoutTheGroupCredentialCanNeitherWriteNorRead() throws Exception {
        RaftTls tls = TestCredentials.group();
        startGroup("127.0.0.1", tls, tls, tls);
        try (RaftKvClient client = patientClient(tls)) {
            client.put(key(1), value(1));
        }
        for (RaftTls wrong : new RaftTls[] {null, TestCredentials.other()}) {
            String why = wrong == null ? "give this client the same --tls-dir" : "TLS: refused: a member at";
            try (RaftKvClient intruder = RaftKvClient.connect(group.founders(), wrong, 1_000, 3)) {
                assertThatThrownBy(() -> intruder.put(key(2), value(2))).as("write with %s", wrong)
                        .isInstanceOf(IOException.class).hasMessageContaining(why);
                assertThatThrownBy(() -> intruder.get(key(1))).as("read with %s", wrong)
                        .isInstanceOf(IOException.class).hasMessageContaining(why);
            }
            try (RaftAdmin admin = RaftAdmin.connect(group.founders(), wrong)) {
                assertThat(admin.status()).allSatisfy(m -> assertThat(m.reachable()).as("%s", m).isFalse());
            }
        }
        try (RaftKvClient client = patientClient(tls)) {
            assertThat(client.get(key(2))).as("nothing the intruders sent was committed").isNull();
            assertThat(client.get(key(1))).isEqualTo(value(1));
        }
    }

    @Test
    void aMemberWithAnotherCredentialCannotJoinAndTheOthersGoOn() throws Exception {
        RaftTls tls = TestCredentials.group();
        startGroup("127.0.0.1", tls, tls, TestCredentials.other());
        RaftGroupNode outsider = group.node("n2");
        long last = 0;
        try (RaftKvClient client = patientClient(tls)) {
            for (int i = 0; i < 20; i++) {
                last = client.put(key(i), value(i));
            }
            assertThat(client.get(key(19))).isEqualTo(value(19));
        }
        long index = last;
        for (RaftGroupNode n : List.of(group.node("n0"), group.node("n1"))) {
            Await.until(() -> n.stateMachine().appliedIndex() >= index, "the two members applied index " + index);
        }
        Thread.sleep(1_000); // time for heartbeats to reach the outsider, were it admitted
        assertThat(outsider.isLeader()).isFalse();
        assertThat(outsider.stateMachine().appliedIndex()).isLessThan(index);
        assertThat(outsider.stateMachine().db().get(RaftKeySpace.stored(key(0)))).isNull();
    }

    @Test
    void withoutACredentialANonLoopbackAddressIsRefusedWithTheFix() {
        List<RaftGroupNode.Peer> remote = List.of(
                new RaftGroupNode.Peer("n0", new InetSocketAddress("127.0.0.1", 7001)),
                new RaftGroupNode.Peer("n1", new InetSocketAddress("192.0.2.1", 7002)));
        assertThatThrownBy(() -> RaftGroupNode.start(tmp.resolve("n0"), "n0", remote, SMALL))
                .isInstanceOf(StorageException.class).hasMessageContaining("peer n1 at 192.0.2.1:7002 is not a loopback address")
                .hasMessageContaining("redoubt raft tls-init").hasMessageContaining("--tls-dir");
        assertThatThrownBy(() -> RaftKvClient.connect(remote)).isInstanceOf(StorageException.class)
                .hasMessageContaining("--tls-dir");
        assertThatThrownBy(() -> RaftAdmin.connect(remote)).isInstanceOf(StorageException.class)
                .hasMessageContaining("--tls-dir");
    }

    @Test
    void withTheCredentialAMemberServesOnANonLoopbackAddress() throws Exception {
        InetAddress local = nonLoopbackAddress();
        assumeThat(local).as("a non-loopback address on this machine").isNotNull();
        RaftTls tls = TestCredentials.group();
        startGroup(local.getHostAddress(), tls);
        try (RaftKvClient client = patientClient(tls)) {
            client.put(key(1), value(1));
            assertThat(client.get(key(1))).isEqualTo(value(1));
        }
    }

    /**
     * A client that waits out a leaderless spell of up to about half a minute: with two of three members able to
     * talk, a leader that steps down (a slow first TLS handshake on a loaded machine can cost it a heartbeat)
     * holds back its next election for Ratis' step-down wait (10 s).
     */
    private RaftKvClient patientClient(RaftTls tls) {
        return RaftKvClient.connect(group.founders(), tls, 3_000, 100);
    }

    private static InetAddress nonLoopbackAddress() throws IOException {
        for (NetworkInterface i : NetworkInterface.networkInterfaces().toList()) {
            if (!i.isUp() || i.isLoopback()) {
                continue;
            }
            for (InetAddress a : i.inetAddresses().toList()) {
                if (a instanceof Inet4Address) {
                    return a;
                }
            }
        }
        return null;
    }
}
