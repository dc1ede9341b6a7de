package dev.redoubt.replication;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy inside the test that plays the network: {@link Mode#PASS} forwards, {@link Mode#BLACKHOLE}
 * keeps connections open but delivers nothing (a partition TCP does not notice), {@link Mode#DROP} closes every
 * connection and refuses new ones, {@link Mode#SLOW} delays each forwarded chunk. This machine has no
 * {@code tc netem}, and a proxy cuts one link without touching the others.
 */
final class TcpProxy implements AutoCloseable {
    enum Mode { PASS, BLACKHOLE, DROP, SLOW }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.PASS;
    private volatile long delayMillis = 50;
    private volatile boolean closed;

    TcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    void mode(Mode m) {
        mode = m;
        if (m == Mode.DROP) {
            sockets.forEach(TcpProxy::closeQuietly);
        }
    }

    /** Closes every open connection (after a black hole: the swallowed bytes would leave the streams corrupt). */
    void dropConnections() {
        sockets.forEach(TcpProxy::closeQuietly);
    }

    void delayMillis(long millis) {
        delayMillis = millis;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                if (mode == Mode.DROP) {
                    closeQuietly(client);
                    continue;
                }
                Socket upstream = new Socket();
                try {
                    upstream.connect(target, 2_000);
                } catch (IOException refused) {
                    // The target is down: the client must see its connection fail, not hang open forever.
                    closeQuietly(client);
                    closeQuietly(upstream);
                    continue;
                }
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                // a refused upstream or a closed server: the client sees a closed connection
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    Mode m = mode;
                    if (m == Mode.BLACKHOLE) {
                        continue; // swallowed: nothing arrives, nothing is reset
                    }
                    if (m == Mode.SLOW) {
                        Thread.sleep(delayMillis);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // either side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        sockets.forEach(TcpProxy::closeQuietly);
    }
}
