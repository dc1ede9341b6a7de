package dev.redoubt.replication;

import java.lang.management.ManagementFactory;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.LoggerFactory;

/** Registers a node's {@link NodeMXBean}; registration failures are logged, never fatal. */
final class NodeMBean implements NodeMXBean {
    private final Node node;
    private ObjectName name;

    private NodeMBean(Node node) {
        this.node = node;
    }

    static NodeMBean register(Node node) {
        NodeMBean bean = new NodeMBean(node);
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName n = new ObjectName("dev.redoubt:type=Node,name=" + ObjectName.quote(node.name()));
            if (!server.isRegistered(n)) {
                server.registerMBean(bean, n);
                bean.name = n;
            }
        } catch (JMException e) {
            LoggerFactory.getLogger(NodeMBean.class).warn("could not register the node MBean: {}", e.getMessage());
        }
        return bean;
    }

    void unregister() {
        if (name != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (JMException ignored) {
                // already gone
            }
        }
    }

    @Override
    public String getRole() {
        return node.role().name();
    }

    @Override
    public long getEpoch() {
        return node.epoch();
    }

    @Override
    public long getWrittenLsn() {
        return node.port().writtenLsn();
    }

    @Override
    public long getDurableLsn() {
        return node.port().durableLsn();
    }

    @Override
    public long getRetainedWalBytes() {
        return node.port().retainedWalBytes();
    }

    @Override
    public int getConnectedBackups() {
        return (int) node.progress().all().stream().filter(b -> b.connected).count();
    }

    @Override
    public long getMaxBackupLagBytes() {
        return node.status().backups().stream().mapToLong(NodeStatus.BackupStatus::lagBytes).max().orElse(0);
    }

    @Override
    public long getMaxBackupLagMillis() {
        return node.status().backups().stream().mapToLong(NodeStatus.BackupStatus::lagMillis).max().orElse(0);
    }

    @Override
    public long getLagBehindPrimaryBytes() {
        NodeStatus.PrimaryStatus p = node.status().primary();
        return p == null ? 0 : p.lagBytes();
    }

    @Override
    public String getStatusJson() {
        return node.status().toJson();
    }
}
