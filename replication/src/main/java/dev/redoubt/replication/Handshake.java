package dev.redoubt.replication;

import java.io.IOException;

/**
 * Mutual authentication at the start of every connection, before any other frame:
 *
 * <pre>
 * client                                   server
 *   HELLO(magic, version, purpose, cn)  -->
 *                                      <--  CHALLENGE(sn, HMAC(secret, "redoubt-server" | cn | sn))
 *   (client checks the server's proof)
 *   AUTH(HMAC(secret, "redoubt-client" | sn | cn)) -->
 *                                      <--  WELCOME(epoch, role, segment bytes)   or ERROR and close
 * </pre>
 * The role is 1 primary, 2 backup, 3 fenced (a deposed primary).
 *
 * Both nonces are 32 random bytes, so a recorded exchange cannot be replayed; the labels differ, so one side's
 * proof is never valid as the other's. The secret itself never crosses the wire.
 */
final class Handshake {
    static final int PURPOSE_REPLICA = 1;
    static final int PURPOSE_CLIENT = 2;
    static final int ROLE_PRIMARY = 1;
    static final int ROLE_BACKUP = 2;
    /** A former primary that learned of a newer epoch (it refuses writes). */
    static final int ROLE_FENCED = 3;
    /** An unauthenticated peer gets this long to finish the handshake. */
    static final int HANDSHAKE_TIMEOUT_MILLIS = 5_000;

    /** What the server told an authenticated client about itself. */
    record Welcome(long epoch, int role, int segmentBytes) {
    }

    private Handshake() {
    }

    static Welcome asClient(FrameChannel channel, PeerSecret secret, int purpose) throws IOException {
        FrameBuilder f = new FrameBuilder();
        byte[] clientNonce = PeerSecret.nonce();
        channel.receiveTimeout(HANDSHAKE_TIMEOUT_MILLIS);
        channel.send(f.start(FrameType.HELLO).u32(Frame.MAGIC).u16(Frame.PROTOCOL_VERSION).u8(purpose).bytes32(clientNonce));
        Frame challenge = channel.receive().expect(FrameType.CHALLENGE);
        byte[] serverNonce = challenge.bytes32();
        byte[] serverProof = challenge.bytes32();
        challenge.end();
        if (!PeerSecret.same(serverProof, secret.proof("redoubt-server", clientNonce, serverNonce))) {
            throw new ProtocolException("the node at " + channel.peer() + " does not hold the same secret");
        }
        channel.send(f.start(FrameType.AUTH).bytes32(secret.proof("redoubt-client", serverNonce, clientNonce)));
        Frame welcome = channel.receive().expect(FrameType.WELCOME);
        channel.authenticated();
        Welcome w = new Welcome(welcome.lsn(), welcome.u8(), welcome.u32());
        welcome.end();
        channel.receiveTimeout(0);
        return w;
    }

    /** Runs the server side; returns the client's purpose once it proved the secret. */
    static int asServer(FrameChannel channel, PeerSecret secret, Welcome about) throws IOException {
        FrameBuilder f = new FrameBuilder();
        channel.receiveTimeout(HANDSHAKE_TIMEOUT_MILLIS);
        Frame hello = channel.receive().expect(FrameType.HELLO);
        int magic = hello.u32();
        int version = hello.u16();
        int purpose = hello.u8();
        byte[] clientNonce = hello.bytes32();
        hello.end();
        if (magic != Frame.MAGIC) {
            throw new ProtocolException("not a Redoubt peer (magic " + Integer.toHexString(magic) + ")");
        }
        if (version != Frame.PROTOCOL_VERSION) {
            reject(channel, f, "protocol version " + version + " is not supported (this node speaks "
                    + Frame.PROTOCOL_VERSION + ")");
        }
        if (purpose != PURPOSE_REPLICA && purpose != PURPOSE_CLIENT) {
            reject(channel, f, "unknown connection purpose " + purpose);
        }
        byte[] serverNonce = PeerSecret.nonce();
        channel.send(f.start(FrameType.CHALLENGE).bytes32(serverNonce)
                .bytes32(secret.proof("redoubt-server", clientNonce, serverNonce)));
        Frame auth = channel.receive().expect(FrameType.AUTH);
        byte[] proof = auth.bytes32();
        auth.end();
        if (!PeerSecret.same(proof, secret.proof("redoubt-client", serverNonce, clientNonce))) {
            reject(channel, f, "authentication failed: the peer does not hold this node's secret");
        }
        channel.authenticated();
        channel.send(f.start(FrameType.WELCOME).u64(about.epoch()).u8(about.role()).u32(about.segmentBytes()));
        channel.receiveTimeout(0);
        return purpose;
    }

    private static void reject(FrameChannel channel, FrameBuilder f, String why) throws IOException {
        try {
            channel.send(f.start(FrameType.ERROR).u16(dev.redoubt.common.ErrorCode.INVALID_STATE.ordinal()).str(why));
        } catch (IOException ignored) {
            // the peer may already be gone; the reason is logged by the caller
        }
        throw new ProtocolException(why);
    }
}
