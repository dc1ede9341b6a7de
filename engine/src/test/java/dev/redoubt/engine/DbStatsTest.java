package dev.redoubt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import org.junit.jupiter.api.Test;

class DbStatsTest {
    @Test
    void statsCountFlushesLevelsAndSequencesAndAreExportedOverJmx() throws Exception {
        Path dir = Path.of("/stats-db");
        try (Db db = Db.open(new SimulatedStorageEnv(), dir, DbModelTest.smallOptions())) {
            for (int i = 0; i < 2_000; i++) {
                db.put(("key" + i).getBytes(), new byte[100]);
            }
            db.flush();
            for (int i = 0; i < 100; i++) {
                db.get(("key" + i).getBytes());
            }
            DbStats stats = db.stats();
            assertThat(stats.flushes()).isPositive();
            assertThat(stats.levelFiles().stream().mapToInt(Integer::intValue).sum()).isPositive();
            assertThat(stats.lastSequence()).isPositive();
            assertThat(stats.durableLsn()).isEqualTo(stats.writtenLsn());
            assertThat(stats.checkpointLsn()).isPositive().isLessThanOrEqualTo(stats.writtenLsn());
            assertThat(stats.blockCacheHits() + stats.blockCacheMisses()).isPositive();

            ObjectName name = new ObjectName("dev.redoubt:type=Db,name=" + ObjectName.quote(dir.toAbsolutePath().toString()));
            CompositeData jmx = (CompositeData) ManagementFactory.getPlatformMBeanServer().getAttribute(name, "Stats");
            assertThat((Long) jmx.get("flushes")).isEqualTo(db.stats().flushes());
            assertThat((Long) jmx.get("checkpointLsn")).isEqualTo(db.stats().checkpointLsn());
        }
        ObjectName name = new ObjectName("dev.redoubt:type=Db,name=" + ObjectName.quote(dir.toAbsolutePath().toString()));
        assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(name)).as("unregistered at close").isFalse();
    }
}
