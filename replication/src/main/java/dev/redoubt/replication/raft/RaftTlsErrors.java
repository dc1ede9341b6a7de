package dev.redoubt.replication.raft;

import java.io.IOException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/**
 * Says why a client could not reach a Raft group when the credential is the likely cause. Ratis reports a call
 * that ran out of attempts as "Failed RaftClientRequest ... for N attempts", the reason buried in its causes:
 * this finds the TLS refusal there ({@link GroupTrustManager} names both certificates), or, for a client
 * without a credential whose connections were closed or reset, says that the group may require one.
 */
final class RaftTlsErrors {
    /** How deep in a chain of causes to look. */
    private static final int CAUSES_MAX = 32;

    private RaftTlsErrors() {
    }

    /** {@code e}, or an IOException around it whose message adds the reason; never loses {@code e}. */
    static IOException explain(IOException e, boolean withCredential) {
        String reason = reason(e, withCredential);
        return reason == null ? e : new IOException(e.getMessage() + ": " + reason, e);
    }

    /** The reason to add to {@code e}'s message, or null when there is nothing to add. */
    static String reason(Throwable e, boolean withCredential) {
        Throwable tls = null;
        boolean closed = false;
        Throwable t = e;
        for (int depth = 0; t != null && depth < CAUSES_MAX; depth++, t = t.getCause()) {
            if (t instanceof CertificateException || (tls == null && t instanceof SSLException)) {
                tls = t;
            }
            // gRPC's words for a connection the server accepted and then closed, as a TLS-only member does
            // with a client that speaks plain HTTP/2; or the kernel's, when the member closed it with the
            // client's bytes still unread (a reset): which of the two the client sees is a race
            String message = String.valueOf(t.getMessage());
            closed |= message.contains("Network closed for unknown reason") || message.contains("Connection reset");
        }
        if (tls != null) {
            return "TLS: " + tls.getMessage();
        }
        if (!withCredential && closed) {
            return "the members closed the connections; if the group was started with a credential (--tls-dir),"
                    + " give this client the same --tls-dir";
        }
        return null;
    }
}
