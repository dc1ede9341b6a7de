package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * What a client is told when it could not reach a group: the TLS refusal when one is among the causes, and, for a
 * client without a credential whose connections a TLS-only member ended (closed, or reset when it still had
 * bytes to read), that the group may need one. Which of the two a plain client sees is a race, so both count.
 */
class RaftTlsErrorsTest {
    private static IOException ratisFailure(Throwable cause) {
        return new IOException("Failed RaftClientRequest:client->n0 for 3 attempts", cause);
    }

    @Test
    void aTlsRefusalAmongTheCausesIsTheReason() {
        Throwable refusal = new SSLHandshakeException("handshake");
        refusal.initCause(new CertificateException("refused: a member at 127.0.0.1 presented another certificate"));
        assertThat(RaftTlsErrors.reason(ratisFailure(new IOException("UNAVAILABLE", refusal)), true))
                .isEqualTo("TLS: refused: a member at 127.0.0.1 presented another certificate");
    }

    @Test
    void aPlainClientWhoseConnectionsWereClosedIsToldTheGroupMayNeedACredential() {
        assertThat(RaftTlsErrors.reason(ratisFailure(new IOException(
                "UNAVAILABLE: Network closed for unknown reason")), false)).contains("give this client the same --tls-dir");
    }

    @Test
    void aPlainClientWhoseConnectionsWereResetIsToldTheSame() {
        assertThat(RaftTlsErrors.reason(ratisFailure(new IOException("UNAVAILABLE: io exception",
                new IOException("Connection reset by peer"))), false)).contains("give this client the same --tls-dir");
    }

    @Test
    void otherFailuresAndClientsWithACredentialGetNoGuess() {
        assertThat(RaftTlsErrors.reason(ratisFailure(new IOException("Connection refused")), false)).isNull();
        assertThat(RaftTlsErrors.reason(ratisFailure(new IOException("Connection reset by peer")), true)).isNull();
        assertThat(RaftTlsErrors.reason(ratisFailure(new IOException("Network closed for unknown reason")), true)).isNull();
    }
}
