package dev.redoubt.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** A port nothing listens on right now, for a test that must name an address before the listener exists. */
public final class FreePorts {
    private FreePorts() {
    }

    /** A free port on the loopback address. */
    public static int loopback() {
        return on(InetAddress.getLoopbackAddress());
    }

    /** A free port on {@code host} (an address of this machine). */
    public static int on(InetAddress host) {
        try (ServerSocket s = new ServerSocket(0, 1, host)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }
}
