package dev.redoubt.replication;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Frames over one TCP connection (see {@link Frame}). Sends are serialized; receives belong to one thread.
 * Every received length is bounded before anything is allocated: {@value Frame#MAX_BODY_BYTES_BEFORE_AUTH} bytes until
 * {@link #authenticated()} is called, {@value Frame#MAX_BODY_BYTES} after.
 */
final class FrameChannel implements AutoCloseable {
    private final Socket socket;
    private final String peer;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final CRC32C sendCrc = new CRC32C();
    private final CRC32C receiveCrc = new CRC32C();
    private volatile int maxBody = Frame.MAX_BODY_BYTES_BEFORE_AUTH;
    private byte[] receiveBuffer = new byte[256];

    FrameChannel(Socket socket) throws IOException {
        this.socket = socket;
        this.peer = String.valueOf(socket.getRemoteSocketAddress());
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 64 * 1024));
    }

    /** Frames over plain streams (no socket): for tests and fuzzing of the decoders. */
    FrameChannel(java.io.InputStream in, java.io.OutputStream out, String peer) {
        this.socket = null;
        this.peer = peer;
        this.in = new DataInputStream(in);
        this.out = new DataOutputStream(out);
    }

    /** Lifts the receive bound to {@link Frame#MAX_BODY_BYTES}: only after the peer proved the secret. */
    void authenticated() {
        maxBody = Frame.MAX_BODY_BYTES;
    }

    /** Blocks at most {@code millis} in each receive (0 = forever); a timeout is a {@link SocketTimeoutException}. */
    void receiveTimeout(int millis) throws IOException {
        if (socket != null) {
            socket.setSoTimeout(millis);
        }
    }

    void send(FrameBuilder frame) throws IOException {
        ByteBuffer body = frame.body();
        synchronized (out) {
            sendCrc.reset();
            sendCrc.update(body.duplicate());
            out.writeInt(body.remaining());
            out.writeInt((int) sendCrc.getValue());
            out.write(body.array(), body.arrayOffset() + body.position(), body.remaining());
            out.flush();
        }
    }

    /**
     * The next frame. Its body is valid until the next receive. A bad length, checksum or type is a
     * {@link ProtocolException}; the peer closing the connection is an {@link EOFException}.
     */
    Frame receive() throws IOException {
        int length = in.readInt();
        int expectedCrc = in.readInt();
        if (length < 1 || length > maxBody) {
            throw new ProtocolException("frame length " + length + " outside 1.." + maxBody
                    + (maxBody == Frame.MAX_BODY_BYTES_BEFORE_AUTH ? " (before authentication)" : ""));
        }
        if (receiveBuffer.length < length) {
            receiveBuffer = new byte[Math.max(length, Math.min(Frame.MAX_BODY_BYTES, receiveBuffer.length * 2))];
        }
        in.readFully(receiveBuffer, 0, length);
        receiveCrc.reset();
        receiveCrc.update(receiveBuffer, 0, length);
        if ((int) receiveCrc.getValue() != expectedCrc) {
            throw new ProtocolException("frame checksum mismatch (" + length + " bytes)");
        }
        int code = receiveBuffer[0] & 0xFF;
        FrameType type = FrameType.of(code);
        if (type == null) {
            throw new ProtocolException("unknown frame type " + code);
        }
        return new Frame(type, ByteBuffer.wrap(receiveBuffer, 1, length - 1).slice());
    }

    /** Bytes that can be read without blocking (buffered or already arrived): a next frame may be waiting. */
    int available() throws IOException {
        return in.available();
    }

    String peer() {
        return peer;
    }

    boolean isClosed() {
        return socket != null && socket.isClosed();
    }

    @Override
    public void close() {
        try {
            if (socket != null) {
                socket.close();
            } else {
                in.close();
            }
        } catch (IOException ignored) {
            // closing: nothing to do
        }
    }
}
