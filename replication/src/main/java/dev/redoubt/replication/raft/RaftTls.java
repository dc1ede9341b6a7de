package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.UnrecoverableKeyException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.KeyManagerFactory;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslProvider;

/**
 * A Raft group's credential, loaded: one private key and its self-signed certificate that every member and
 * every client of the group holds (made by {@link RaftTlsInit}, {@code redoubt raft tls-init}). It is the TLS
 * analogue of a node pair's shared secret: every gRPC connection of the group (member to member, client to
 * member, admin to member) is mutual TLS 1.3, each side presents the group certificate and accepts only the
 * group certificate ({@link GroupTrustManager}), so only holders of the key can join, vote, write or read.
 *
 * <p>Directory layout: {@value #KEYSTORE_FILE} (PKCS12: the key and certificate) and {@value #PASSWORD_FILE}
 * (the keystore's password, one line, owner-only). Immutable and thread-safe.
 */
public final class RaftTls {
    public static final String KEYSTORE_FILE = "group.p12";
    public static final String PASSWORD_FILE = "group.p12.password";
    /** A password file larger than this is not one of ours. */
    private static final int PASSWORD_BYTES_MAX = 1024;

    private final X509Certificate certificate;
    private final GrpcTlsConfig config;
    private final SSLContext sslContext;

    private RaftTls(X509Certificate certificate, GrpcTlsConfig config, SSLContext sslContext) {
        this.certificate = certificate;
        this.config = config;
        this.sslContext = sslContext;
    }

    /**
     * Loads the credential in {@code dir}. A {@link StorageException} says what is wrong and how to fix it: a
     * missing file, a password that does not open the keystore, an expired or not yet valid certificate.
     */
    public static RaftTls load(Path dir) {
        Path keystoreFile = dir.resolve(KEYSTORE_FILE);
        Path passwordFile = dir.resolve(PASSWORD_FILE);
        for (Path f : List.of(keystoreFile, passwordFile)) {
            if (!Files.isRegularFile(f)) {
                throw new StorageException(ErrorCode.IO, f + " is missing: a Raft group credential directory holds "
                        + KEYSTORE_FILE + " and " + PASSWORD_FILE + "; make one with `redoubt raft tls-init --dir DIR`"
                        + " and copy it to every member and client", new NoSuchFileException(f.toString()));
            }
        }
        char[] password = readPassword(passwordFile);
        KeyStore store = readKeyStore(keystoreFile, passwordFile, password);
        X509Certificate certificate = onlyCertificate(store, keystoreFile);
        checkValidity(certificate, keystoreFile);
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            KeyManager keyManager = kmf.getKeyManagers()[0];
            GrpcTlsConfig config = GrpcTlsConfig.newBuilder()
                    .setKeyManager(keyManager)
                    .setTrustManager(new GroupTrustManager(certificate))
                    .setMutualTls(true)
                    // The JDK's TLS: the trust manager above is then the only judge of a peer's certificate
                    // (no native host-name check), and no native library is needed.
                    .setSslProvider(SslProvider.JDK)
                    .setProtocols("TLSv1.3")
                    .build();
            // The same credential for a node pair's links (PairSockets): TLS 1.3, the group certificate the only
            // one trusted, both sides authenticated.
            SSLContext ssl = SSLContext.getInstance("TLSv1.3");
            ssl.init(new KeyManager[] {keyManager}, new TrustManager[] {new GroupTrustManager(certificate)}, null);
            return new RaftTls(certificate, config, ssl);
        } catch (GeneralSecurityException e) {
            throw new StorageException(ErrorCode.INVALID_STATE, "the key in " + keystoreFile + " cannot be used for"
                    + " TLS (" + e.getMessage() + "); make a new credential with `redoubt raft tls-init`", e);
        } finally {
            java.util.Arrays.fill(password, '\0');
        }
    }

    /** Ratis parameters that make every connection of a server or client mutual TLS with this credential. */
    public Parameters parameters() {
        Parameters p = new Parameters();
        // The default TLS configuration covers the server, client and admin services and the members' own
        // connections to each other, unless one of them is given a configuration of its own (none is).
        GrpcConfigKeys.TLS.setConf(p, config);
        return p;
    }

    /** Ratis parameters for {@code tls}, or plain ones (no TLS) when it is null. */
    static Parameters parameters(RaftTls tls) {
        return tls == null ? new Parameters() : tls.parameters();
    }

    /**
     * Refuses a group with a member outside the loopback addresses unless it is authenticated: an
     * unauthenticated listener must not be reachable from other hosts. {@code who} names the caller.
     */
    static void checkAddresses(List<RaftGroupNode.Peer> peers, RaftTls tls, String who) {
        if (tls != null) {
            return;
        }
        for (RaftGroupNode.Peer p : peers) {
            if (p.address().getAddress() == null || !p.address().getAddress().isLoopbackAddress()) {
                throw new StorageException(ErrorCode.INVALID_STATE, who + ": peer " + p.id() + " at "
                        + p.address().getHostString() + ":" + p.address().getPort() + " is not a loopback address, and"
                        + " a Raft group reachable from other hosts must be authenticated: make a group credential"
                        + " with `redoubt raft tls-init --dir DIR`, copy DIR to every member and client, and give"
                        + " each --tls-dir DIR (RaftTls.load in code)");
            }
        }
    }

    /**
     * TLS 1.3 with this credential, for sockets outside Ratis (a node pair's links): the group certificate is the
     * only one trusted, and servers must ask for the client's.
     */
    public SSLContext sslContext() {
        return sslContext;
    }

    /** SHA-256 of the group certificate, as colon-separated hex: compare it across machines. */
    public String fingerprint() {
        return fingerprint(certificate);
    }

    /** When the group certificate expires: before then, make a new credential and restart every member with it. */
    public Instant notAfter() {
        return certificate.getNotAfter().toInstant();
    }

    static String fingerprint(X509Certificate c) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static char[] readPassword(Path file) {
        byte[] b;
        try {
            if (Files.size(file) > PASSWORD_BYTES_MAX) {
                throw new StorageException(ErrorCode.INVALID_STATE, file + " is larger than " + PASSWORD_BYTES_MAX
                        + " bytes: it is not the password file `redoubt raft tls-init` writes");
            }
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw StorageException.fromIo("reading the Raft group's password file " + file, e);
        }
        String s = new String(b, StandardCharsets.UTF_8);
        java.util.Arrays.fill(b, (byte) 0);
        int n = s.length();
        while (n > 0 && (s.charAt(n - 1) == '\n' || s.charAt(n - 1) == '\r')) {
            n--;
        }
        if (n == 0) {
            throw new StorageException(ErrorCode.INVALID_STATE, file + " is empty: copy it again from the directory"
                    + " `redoubt raft tls-init` made");
        }
        return s.substring(0, n).toCharArray();
    }

    private static KeyStore readKeyStore(Path keystoreFile, Path passwordFile, char[] password) {
        try (InputStream in = Files.newInputStream(keystoreFile)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
            return store;
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new StorageException(ErrorCode.INVALID_STATE, "the password in " + passwordFile + " does not"
                        + " open " + keystoreFile + ": both files must come from the same `redoubt raft tls-init`;"
                        + " copy the whole directory again", e);
            }
            throw new StorageException(ErrorCode.INVALID_STATE, keystoreFile + " is not a readable PKCS12 keystore ("
                    + e.getMessage() + "): copy it again from the directory `redoubt raft tls-init` made", e);
        } catch (GeneralSecurityException e) {
            throw new StorageException(ErrorCode.INVALID_STATE, keystoreFile + " cannot be read (" + e.getMessage()
                    + "): make a new credential with `redoubt raft tls-init`", e);
        }
    }

    private static X509Certificate onlyCertificate(KeyStore store, Path keystoreFile) {
        try {
            List<String> keys = new ArrayList<>();
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    keys.add(alias);
                }
            }
            if (keys.size() != 1 || !(store.getCertificate(keys.get(0)) instanceof X509Certificate c)) {
                throw new StorageException(ErrorCode.INVALID_STATE, keystoreFile + " holds " + keys.size() + " keys;"
                        + " a Raft group credential holds exactly one key with an X.509 certificate: make one with"
                        + " `redoubt raft tls-init`");
            }
            return c;
        } catch (GeneralSecurityException e) {
            throw new StorageException(ErrorCode.INVALID_STATE, keystoreFile + " cannot be read (" + e.getMessage()
                    + "): make a new credential with `redoubt raft tls-init`", e);
        }
    }

    private static void checkValidity(X509Certificate c, Path keystoreFile) {
        try {
            c.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new StorageException(ErrorCode.INVALID_STATE, "the Raft group certificate in " + keystoreFile
                    + " expired on " + c.getNotAfter().toInstant() + ": make a new credential with `redoubt raft"
                    + " tls-init --dir NEWDIR`, copy it to every member and client and restart each with --tls-dir"
                    + " NEWDIR", e);
        } catch (CertificateNotYetValidException e) {
            throw new StorageException(ErrorCode.INVALID_STATE, "the Raft group certificate in " + keystoreFile
                    + " is not valid before " + c.getNotBefore().toInstant() + ": check this machine's clock", e);
        }
    }
}
