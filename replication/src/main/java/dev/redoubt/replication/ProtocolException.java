package dev.redoubt.replication;

import java.io.IOException;

/** A peer sent bytes that break the protocol (bad length, checksum, field, order or authentication). */
public final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
