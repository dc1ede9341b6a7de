package dev.redoubt.replication;

import dev.redoubt.replication.raft.RaftTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * The sockets of a node pair's links: plain TCP, or mutual TLS 1.3 when the nodes hold the group credential
 * ({@code redoubt raft tls-init}, {@link RaftTls}): each side proves it holds the group's key, and only the
 * group's certificate is trusted. The HMAC handshake on the shared secret ({@link Handshake}) runs inside either.
 */
final class PairSockets {
    private static final String[] PROTOCOLS = {"TLSv1.3"};

    private PairSockets() {
    }

    /** A connected socket to {@code node} (null {@code tls}: plain TCP), its TLS handshake done. */
    static Socket connect(InetSocketAddress node, int timeoutMillis, RaftTls tls) throws IOException {
        Socket socket = tls == null ? new Socket() : tls.sslContext().getSocketFactory().createSocket();
        try {
            socket.connect(node, timeoutMillis);
            if (socket instanceof SSLSocket ssl) {
                ssl.setEnabledProtocols(PROTOCOLS);
                ssl.setSoTimeout(timeoutMillis);
                ssl.startHandshake();
                ssl.setSoTimeout(0);
            }
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** A listener bound to {@code at} (null {@code tls}: plain TCP; else TLS that requires the client's certificate). */
    static ServerSocket listen(InetSocketAddress at, RaftTls tls) throws IOException {
        ServerSocket listener = tls == null ? new ServerSocket()
                : tls.sslContext().getServerSocketFactory().createServerSocket();
        try {
            if (listener instanceof SSLServerSocket ssl) {
                ssl.setEnabledProtocols(PROTOCOLS);
                ssl.setNeedClientAuth(true);
            }
            listener.setReuseAddress(true);
            listener.bind(at);
            return listener;
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }
}
