package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code redoubt raft add-peer|remove-peer} against members in this JVM, and the Raft-only options of {@code node start}. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RaftMembershipCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void aNewcomerIsAddedTheLeaderIsRemovedAndTheGroupServesUnderItsNewMembership() throws Exception {
        try (RaftCliGroup g = new RaftCliGroup(tmp, 4, 3)) {
            String founders = g.spec("n0", "n1", "n2");
            assertThat(Cli.run("kv", "--group", founders, "put", "k", "v").code()).isZero();

            Cli.Result notStarted = Cli.run("raft", "add-peer", "--peers", founders, "--add", g.spec("n3"));
            assertThat(notStarted.code()).as("%s", notStarted).isEqualTo(ExitCodes.DATA);
            assertThat(notStarted.err()).contains("--join");

            g.join("n3");
            Cli.Result add = Cli.run("raft", "add-peer", "--peers", founders, "--add", g.spec("n3"));
            assertThat(add.code()).as("%s", add).isZero();
            assertThat(add.out()).contains("added n3; the members are now n0, n1, n2, n3")
                    .contains("--peers " + g.spec("n0", "n1", "n2", "n3"));
            Cli.Result again = Cli.run("raft", "add-peer", "--peers", founders, "--add", g.spec("n3"));
            assertThat(again.code()).as("%s", again).isEqualTo(ExitCodes.USAGE);
            assertThat(again.err()).contains("already a member");

            Cli.Result status = Cli.run("raft", "status", "--peers", founders, "--json");
            assertThat(status.out()).contains("\"configuration\":[\"n0\",\"n1\",\"n2\",\"n3\"]")
                    .contains("\"id\":\"n3\"").doesNotContain("\"inConfiguration\":false");
            String leader = status.out().replaceAll("(?s).*\"leader\":\"(n[0-9])\".*", "$1");

            String all = g.spec("n0", "n1", "n2", "n3");
            Cli.Result unknown = Cli.run("raft", "remove-peer", "--peers", all, "--remove", "n9");
            assertThat(unknown.code()).isEqualTo(ExitCodes.USAGE);
            assertThat(unknown.err()).contains("n9 is not a member");
            Cli.Result remove = Cli.run("raft", "remove-peer", "--peers", all, "--remove", leader);
            assertThat(remove.code()).as("%s", remove).isZero();
            assertThat(remove.out()).contains("removed " + leader);
            g.stop(leader);

            String rest = remove.out().replaceAll("(?s).*--peers (\\S+).*", "$1");
            assertThat(Cli.run("kv", "--group", rest, "put", "k2", "v2").code()).isZero();
            assertThat(Cli.run("kv", "--group", rest, "get", "k").out().trim()).isEqualTo("v");
            Cli.Result after = Cli.run("raft", "status", "--peers", rest);
            assertThat(after.out()).as("%s", after).contains("configuration: ").contains("n3").contains("LEADER")
                    .doesNotContain(leader + " ");
        }
    }

    @Test
    void joinIsForRaftMembers() {
        Cli.Result r = Cli.run("node", "start", "--dir", tmp.resolve("d").toString(), "--join", "--secret-file", "x");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--join is for a Raft member");
    }

    @Test
    void readsIsForRaftMembersAndAnUnknownModeNamesTheChoices() {
        Cli.Result pair = Cli.run("node", "start", "--dir", tmp.resolve("d").toString(), "--reads", "leader-lease",
                "--secret-file", "x");
        assertThat(pair.code()).as("%s", pair).isEqualTo(ExitCodes.USAGE);
        assertThat(pair.err()).contains("--reads is for a Raft member");

        Cli.Result unknown = Cli.run("node", "start", "--raft", "--id", "n0", "--peers", "n0@127.0.0.1:7000",
                "--dir", tmp.resolve("m").toString(), "--reads", "lease");
        assertThat(unknown.code()).as("%s", unknown).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).contains("read-index").contains("leader-lease");
    }
}
