package dev.redoubt.engine;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import javax.management.ObjectName;

/**
 * The {@link DbStats} of an open Db as the JMX MBean {@code dev.redoubt:type=Db,name="<directory>"}.
 * Registration is best effort: a second Db on a same-named directory, or a platform without JMX, only loses
 * the MBean.
 */
final class DbMBean implements DbStatsMXBean {
    private final DbEngine engine;
    private ObjectName name;

    private DbMBean(DbEngine engine) {
        this.engine = engine;
    }

    static DbMBean register(DbEngine engine, Path dir) {
        DbMBean bean = new DbMBean(engine);
        try {
            ObjectName name = new ObjectName("dev.redoubt:type=Db,name=" + ObjectName.quote(dir.toAbsolutePath().toString()));
            ManagementFactory.getPlatformMBeanServer().registerMBean(bean, name);
            bean.name = name;
        } catch (Exception e) {
            bean.name = null;
        }
        return bean;
    }

    void unregister() {
        if (name != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (Exception ignored) {
                // already gone
            }
            name = null;
        }
    }

    @Override
    public DbStats getStats() {
        return engine.stats();
    }
}
