package dev.redoubt.replication;

import java.io.IOException;
import java.net.InetSocketAddress;

/** The test {@link TcpProxy} for tests in other packages of this module. */
public final class TcpProxyAccess implements AutoCloseable {
    private final TcpProxy proxy;

    private TcpProxyAccess(TcpProxy proxy) {
        this.proxy = proxy;
    }

    public static TcpProxyAccess to(InetSocketAddress target) throws IOException {
        return new TcpProxyAccess(new TcpProxy(target));
    }

    public InetSocketAddress address() {
        return proxy.address();
    }

    /**
     * Delivers nothing into the member, keeps connections open (a partition TCP does not notice). One address per
     * member means one proxy per member, not per link: connections the member opens itself still work, so this
     * is an asymmetric partition (the member can send, not receive).
     */
    public void blackhole() {
        proxy.mode(TcpProxy.Mode.BLACKHOLE);
    }

    /** Heals: connections that lived through a black hole are reset (their swallowed bytes are gone), new ones pass. */
    public void pass() {
        proxy.mode(TcpProxy.Mode.PASS);
        proxy.dropConnections();
    }

    @Override
    public void close() throws IOException {
        proxy.close();
    }
}
