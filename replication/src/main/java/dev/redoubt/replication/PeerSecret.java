package dev.redoubt.replication;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The shared secret peers prove they hold (HMAC-SHA256 challenge-response, both ways; see {@link Handshake}).
 * Read from a file so it never appears on a command line or in a process listing; {@link #toString()} never
 * shows it. A trailing newline in the file is ignored.
 */
public final class PeerSecret {
    /** Fewer bytes than this is too easy to guess. */
    public static final int MIN_BYTES = 16;
    private static final int MAX_BYTES = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;

    private PeerSecret(byte[] key) {
        this.key = key;
    }

    public static PeerSecret fromFile(Path file) {
        byte[] b;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new StorageException(ErrorCode.INVALID_STATE, "the secret file " + file + " is larger than "
                        + MAX_BYTES + " bytes; it should hold one random line (e.g. `head -c 32 /dev/urandom | base64`)");
            }
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw StorageException.fromIo("reading the secret file " + file, e);
        }
        int n = b.length;
        while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) {
            n--;
        }
        if (n < MIN_BYTES) {
            throw new StorageException(ErrorCode.INVALID_STATE, "the secret file " + file + " holds " + n + " bytes; use at"
                    + " least " + MIN_BYTES + " (e.g. `head -c 32 /dev/urandom | base64 > " + file.getFileName() + "`)");
        }
        return new PeerSecret(Arrays.copyOf(b, n));
    }

    /** For tests and embedding: a secret given as bytes (at least {@link #MIN_BYTES}). */
    public static PeerSecret of(byte[] secret) {
        if (secret.length < MIN_BYTES) {
            throw new IllegalArgumentException("a secret needs at least " + MIN_BYTES + " bytes");
        }
        return new PeerSecret(secret.clone());
    }

    static byte[] nonce() {
        byte[] n = new byte[32];
        RANDOM.nextBytes(n);
        return n;
    }

    /** HMAC-SHA256(secret, label | a | b). */
    byte[] proof(String label, byte[] a, byte[] b) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            mac.update(a);
            mac.update(b);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Constant-time comparison, so timing does not reveal how much of a forged proof was right. */
    static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    @Override
    public String toString() {
        return "PeerSecret[hidden]";
    }
}
