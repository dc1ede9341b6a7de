package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI crash test: at least 40 SIGKILL cycles across SYNC and ASYNC with 4 writer threads, every acknowledged
 * batch checked after each kill (and all of them again at the end). Longer: -Dredoubt.crash.cycles=1000. Then 10
 * power-loss cycles ({@code --power-loss}: each kill also loses what the child had not fsynced), where every SYNC
 * batch must survive and each writer's surviving ASYNC batches must be gap-free. Longer:
 * -Dredoubt.powerloss.cycles=200.
 */
class CrashTestCiTest {
    private static final int CYCLES = Integer.getInteger("redoubt.crash.cycles", 40);
    private static final int POWER_LOSS_CYCLES = Integer.getInteger("redoubt.powerloss.cycles", 10);
    private static final long SEED = Long.getLong("redoubt.seed", System.nanoTime());

    @TempDir
    Path dir;

    @Test
    @Timeout(3600)
    void fiftySigkillCyclesAcrossSyncAndAsyncLoseNothing() {
        Cli.Result r = Cli.run("crash-test", "--dir", dir.resolve("db").toString(), "--cycles", Integer.toString(CYCLES),
                "--writers", "4", "--durability", "MIXED", "--kill-after", "50..400", "--seed", Long.toString(SEED),
                "--json");
        assertThat(r.code()).as("seed %d (replay: -Dredoubt.seed=%d): %s", SEED, SEED, r).isZero();
        String json = r.out();
        assertThat(count(json, "\"durability\":\"SYNC\"")).isEqualTo(CYCLES / 2 + CYCLES % 2);
        assertThat(count(json, "\"durability\":\"ASYNC\"")).isEqualTo(CYCLES / 2);
        assertThat(count(json, "\"lost\":0,")).isEqualTo(CYCLES + 1);
        assertThat(json).contains("\"passed\":true").contains("\"writers\":4");
        Matcher acked = Pattern.compile("\"summary\":\\{\"cycles\":(\\d+),\"acknowledged\":(\\d+)").matcher(json);
        assertThat(acked.find()).isTrue();
        assertThat(Long.parseLong(acked.group(2))).as("acknowledged batches").isGreaterThan(CYCLES * 10L);
        assertThat(json).as("flushes and compactions ran before some kills")
                .containsPattern("\"flushes\":[1-9]\\d*,\"compactions\":[1-9]");
    }

    @Test
    @Timeout(3600)
    void tenPowerLossCyclesKeepEverySyncBatchAndAGapFreePrefixOfTheAsyncOnes() {
        Cli.Result r = Cli.run("crash-test", "--power-loss", "--dir", dir.resolve("power-loss").toString(),
                "--cycles", Integer.toString(POWER_LOSS_CYCLES), "--writers", "4", "--durability", "MIXED",
                "--kill-after", "100..400", "--seed", Long.toString(SEED), "--json");
        assertThat(r.code()).as("seed %d (replay: -Dredoubt.seed=%d): %s", SEED, SEED, r).isZero();
        String json = r.out();
        assertThat(json).contains("\"passed\":true").endsWith(",\"powerLoss\":true}\n");
        assertThat(count(json, "\"durability\":\"SYNC\"")).isEqualTo(POWER_LOSS_CYCLES / 2 + POWER_LOSS_CYCLES % 2);
        assertThat(count(json, "\"durability\":\"ASYNC\"")).isEqualTo(POWER_LOSS_CYCLES / 2);
        // Every cycle, and the summary: no SYNC batch lost, nothing partial, no hole.
        assertThat(count(json, "\"lost\":0,")).isEqualTo(POWER_LOSS_CYCLES + 1);
        assertThat(count(json, "\"partial\":0,")).isEqualTo(POWER_LOSS_CYCLES + 1);
        assertThat(count(json, "\"holes\":0")).isEqualTo(POWER_LOSS_CYCLES + 1);
        Matcher summary = Pattern.compile("\"summary\":\\{\"cycles\":\\d+,\"acknowledged\":(\\d+),\"verifiedAtEnd\":(\\d+)"
                + ".*\"unsyncedLost\":(\\d+),\"holes\":0,\"expectedAtEnd\":(\\d+)").matcher(json);
        assertThat(summary.find()).as(json).isTrue();
        long acknowledged = Long.parseLong(summary.group(1));
        assertThat(acknowledged).as("acknowledged batches").isPositive();
        assertThat(Long.parseLong(summary.group(2))).as("verified at the end: all that had to survive")
                .isEqualTo(Long.parseLong(summary.group(4)))
                .isEqualTo(acknowledged - Long.parseLong(summary.group(3)));
    }

    @Test
    void theSeedFixesTheKillMomentsAndDurabilities() {
        String a = killPlan(Cli.run("crash-test", "--cycles", "2", "--writers", "1", "--seed", "42", "--json",
                "--kill-after", "20..60").out());
        String b = killPlan(Cli.run("crash-test", "--cycles", "2", "--writers", "1", "--seed", "42", "--json",
                "--kill-after", "20..60").out());
        assertThat(a).isNotEmpty().isEqualTo(b);
    }

    private static String killPlan(String json) {
        StringBuilder plan = new StringBuilder();
        Matcher m = Pattern.compile("\"durability\":\"(\\w+)\",\"killAfterMs\":(\\d+)").matcher(json);
        while (m.find()) {
            plan.append(m.group(1)).append('@').append(m.group(2)).append(' ');
        }
        return plan.toString();
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
