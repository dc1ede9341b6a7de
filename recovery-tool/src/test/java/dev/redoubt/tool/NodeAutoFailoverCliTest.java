package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.Await;
import dev.redoubt.testsupport.ChildJvm;
import dev.redoubt.testsupport.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick start of automatic failover as a user runs it (README, "Node pairs with automatic failover"): a
 * witness and two nodes started with {@code redoubt node witness} and {@code node start --auto-failover}, each
 * its own process; the primary killed with SIGKILL; the backup takes over by itself; the former primary,
 * restarted with the same command, comes back as a backup and receives what was written meanwhile.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class NodeAutoFailoverCliTest {
    private static final String LEASE_MS = "2000";

    @TempDir
    Path tmp;

    private final List<Process> children = new ArrayList<>();
    /** Every child's output, each line prefixed with which child: printed when the test fails. */
    private final List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void killChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theBackupTakesOverAKilledPrimaryAndTheRestartedPrimaryComesBackAsBackup() throws Exception {
        Path secret = tmp.resolve("secret");
        Files.writeString(secret, "auto-failover-cli-test-secret-0123\n");
        String peers = "a@127.0.0.1:" + FreePorts.loopback() + ",b@127.0.0.1:" + FreePorts.loopback()
                + ",w@127.0.0.1:" + FreePorts.loopback();
        String dataA = "127.0.0.1:" + FreePorts.loopback();
        String dataB = "127.0.0.1:" + FreePorts.loopback();

        start("witness", "node", "witness", "--dir", tmp.resolve("w").toString(), "--id", "w", "--peers", peers,
                "--lease-ms", LEASE_MS);
        List<String> nodeA = List.of("node", "start", "--auto-failover", "--role", "primary", "--dir",
                tmp.resolve("a").toString(), "--id", "a", "--peers", peers, "--partner", "b@" + dataB, "--listen", dataA,
                "--secret-file", secret.toString(), "--lease-ms", LEASE_MS);
        Process a = start("node a", nodeA.toArray(String[]::new));
        start("node b", "node", "start", "--auto-failover", "--dir", tmp.resolve("b").toString(), "--id", "b",
                "--peers", peers, "--partner", "a@" + dataA, "--listen", dataB, "--secret-file", secret.toString(),
                "--lease-ms", LEASE_MS);

        Await.until(() -> status(dataA, secret).contains("\"role\":\"PRIMARY\""), "a becomes primary");
        Await.until(() -> status(dataB, secret).contains("\"holder\":\"a\""), "b sees a hold the record");
        // A standby is ready once its member of the failover group has the group's log (an empty log cannot vote).
        Await.until(() -> status(dataB, secret).contains("\"memberCaughtUp\":true"), "b's failover member caught up");
        Cli.Result put = Cli.run("kv", "--node", dataA, "--secret-file", secret.toString(), "put", "k1", "v1",
                "--commit", "REMOTE_DURABLE");
        assertThat(put.code()).as("%s", put).isZero();

        a.destroyForcibly(); // SIGKILL
        a.waitFor(10, TimeUnit.SECONDS);
        try {
            Await.until(() -> status(dataB, secret).contains("\"role\":\"PRIMARY\""), "b takes over by itself");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; b's status: " + status(dataB, secret) + "\nchildren:\n"
                    + String.join("\n", output), e);
        }
        Await.until(() -> status(dataB, secret).contains("\"holder\":\"b\""), "b's status names it the holder");
        Await.until(() -> status(dataB, secret).contains("\"witnessHolder\":\"b\""), "the witness names b too");
        Cli.Result get = Cli.run("kv", "--node", dataB, "--secret-file", secret.toString(), "get", "k1");
        assertThat(get.out().trim()).as("the acknowledged REMOTE_DURABLE write survived: %s", get).isEqualTo("v1");
        Cli.Result put2 = Cli.run("kv", "--node", dataB, "--secret-file", secret.toString(), "put", "k2", "v2");
        assertThat(put2.code()).as("%s", put2).isZero();

        start("node a again", nodeA.toArray(String[]::new));
        Await.until(() -> status(dataA, secret).contains("\"role\":\"BACKUP\"")
                && Cli.run("kv", "--node", dataA, "--secret-file", secret.toString(), "get", "k2").out().trim()
                .equals("v2"), "the restarted former primary is b's backup and has b's write");
        assertThat(status(dataA, secret)).contains("\"holder\":\"b\"");
    }

    private String status(String node, Path secret) {
        Cli.Result r = Cli.run("node", "status", "--node", node, "--secret-file", secret.toString(), "--json",
                "--timeout-ms", "2000");
        return r.code() == 0 ? r.out() : "";
    }

    private Process start(String what, String... args) throws Exception {
        List<String> command = ChildJvm.javaCommand(List.of(), RedoubtCli.class.getName(), List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        ChildJvm.Started<String> started = ChildJvm.start(builder, line -> line.contains("serving") ? line : null,
                line -> output.add(what + ": " + line), Duration.ofSeconds(60), what);
        children.add(started.process());
        return started.process();
    }
}
