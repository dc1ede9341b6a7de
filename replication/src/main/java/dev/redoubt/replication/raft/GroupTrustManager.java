package dev.redoubt.replication.raft;

import java.net.Socket;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trusts exactly one certificate, the Raft group's, on both ends of a connection: a peer is admitted when the
 * certificate it presents is byte for byte the group certificate (it proved it holds the key in the handshake)
 * and the certificate is within its validity. Host names are not checked: every member holds the same key, so
 * a name would say nothing a peer could not claim, and members can move hosts without a new certificate.
 *
 * <p>Each refusal is logged with its reason (at most one line per {@link #LOG_INTERVAL_NANOS}, so a hostile
 * peer cannot flood the log). Thread-safe.
 */
final class GroupTrustManager extends X509ExtendedTrustManager {
    private static final Logger LOG = LoggerFactory.getLogger(GroupTrustManager.class);
    static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final X509Certificate group;
    private final byte[] groupEncoded;
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);

    GroupTrustManager(X509Certificate group) {
        this.group = group;
        try {
            this.groupEncoded = group.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("the group certificate cannot be encoded", e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain, "client", engine == null ? null : engine.getPeerHost(), engine == null ? -1 : engine.getPeerPort());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain, "member", engine == null ? null : engine.getPeerHost(), engine == null ? -1 : engine.getPeerPort());
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain, "client", null, -1);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain, "member", null, -1);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain, "client", null, -1);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain, "member", null, -1);
    }

    /**
     * None: no certificate authorities are named to a connecting client, so it always presents its certificate
     * and a wrong one is refused here, with a logged reason, instead of failing silently in its key choice.
     */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    private void check(X509Certificate[] chain, String role, String host, int port) throws CertificateException {
        String peer = "a " + role + (host == null ? "" : " at " + host + (port > 0 ? ":" + port : ""));
        if (chain == null || chain.length == 0) {
            throw refuse(peer + " presented no certificate");
        }
        if (!Arrays.equals(chain[0].getEncoded(), groupEncoded)) {
            throw refuse(peer + " presented a certificate that is not this Raft group's (its SHA-256 "
                    + RaftTls.fingerprint(chain[0]) + ", the group's " + RaftTls.fingerprint(group)
                    + "): every member and client must use the same credential directory (--tls-dir)");
        }
        try {
            chain[0].checkValidity();
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw refuse(peer + " presented the group certificate, which is valid only from "
                    + group.getNotBefore().toInstant() + " to " + group.getNotAfter().toInstant()
                    + ": make a new credential with `redoubt raft tls-init` and restart every member with it");
        }
    }

    private CertificateException refuse(String reason) {
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
            LOG.warn("refused a TLS connection: {}", reason);
        }
        return new CertificateException("refused: " + reason);
    }
}
