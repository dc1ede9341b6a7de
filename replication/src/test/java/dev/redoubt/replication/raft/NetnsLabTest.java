package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link NetnsLab} does what the nemesis relies on: a cut drops exactly one link (the routing decision in each
 * namespace), the client link carries TCP from a namespace to the root namespace until it is cut, heals undo
 * cuts, and closing deletes the namespaces and the bridge. Skipped unless root with {@code ip netns}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetnsLabTest {
    @Test
    void cutsOneLinkAtATimeAndCleansUp() throws Exception {
        String why = NetnsLab.unavailableReason();
        assumeTrue(why == null, () -> "network namespaces unavailable: " + why);
        List<String> namespaces;
        try (NetnsLab lab = NetnsLab.create(3)) {
            namespaces = List.of(lab.namespace(0), lab.namespace(1), lab.namespace(2));
            try (ServerSocket host = new ServerSocket(0, 50, InetAddress.getByName(lab.hostAddress()))) {
                acceptInBackground(host);
                assertThat(connects(lab, 0, lab.hostAddress(), host.getLocalPort())).isTrue();

                lab.cut(0, 1);
                assertThat(route(lab, 0, 1)).startsWith("blackhole");
                assertThat(route(lab, 1, 0)).startsWith("blackhole");
                assertThat(route(lab, 0, 2)).doesNotStartWith("blackhole");
                assertThat(route(lab, 2, 0)).doesNotStartWith("blackhole");
                assertThat(route(lab, 2, 1)).doesNotStartWith("blackhole");
                lab.heal(0, 1);
                assertThat(route(lab, 0, 1)).doesNotStartWith("blackhole");
                assertThat(route(lab, 1, 0)).doesNotStartWith("blackhole");

                lab.cutOneWay(2, 0);
                assertThat(route(lab, 2, 0)).startsWith("blackhole");
                assertThat(route(lab, 0, 2)).doesNotStartWith("blackhole");

                lab.cutFromHost(1);
                assertThat(connects(lab, 1, lab.hostAddress(), host.getLocalPort())).isFalse();
                assertThat(connects(lab, 0, lab.hostAddress(), host.getLocalPort())).isTrue();
                assertThat(lab.cuts()).hasSize(2);
                lab.healAll();
                assertThat(lab.cuts()).isEmpty();
                assertThat(route(lab, 2, 0)).doesNotStartWith("blackhole");
                assertThat(connects(lab, 1, lab.hostAddress(), host.getLocalPort())).isTrue();
            }
        }
        String left = NetnsLab.run(List.of("ip", "netns", "list"));
        for (String ns : namespaces) {
            assertThat(left).doesNotContain(ns);
        }
    }

    /**
     * How member {@code from}'s namespace routes to member {@code to}: "blackhole" when cut (the kernel refuses
     * the lookup with EINVAL, as it refuses local senders), else {@code ip route get}'s answer.
     */
    private static String route(NetnsLab lab, int from, int to) throws IOException, InterruptedException {
        try {
            return NetnsLab.run(concat(lab.execPrefix(from), "ip", "route", "get", lab.address(to))).trim();
        } catch (IOException e) {
            if (e.getMessage().contains("Invalid argument")) {
                return "blackhole";
            }
            throw e;
        }
    }

    /** Whether a TCP connection from member {@code from}'s namespace to {@code address:port} opens within 2 s. */
    private static boolean connects(NetnsLab lab, int from, String address, int port)
            throws IOException, InterruptedException {
        try {
            NetnsLab.run(concat(lab.execPrefix(from), "timeout", "2", "bash", "-c",
                    "exec 3<>/dev/tcp/" + address + "/" + port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> concat(List<String> prefix, String... rest) {
        List<String> all = new java.util.ArrayList<>(prefix);
        all.addAll(List.of(rest));
        return all;
    }

    private static void acceptInBackground(ServerSocket server) {
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getInputStream().read();
                } catch (IOException e) {
                    // closed, or the peer went away
                }
            }
        }, "netns-lab-test-accept");
        t.setDaemon(true);
        t.start();
    }
}
