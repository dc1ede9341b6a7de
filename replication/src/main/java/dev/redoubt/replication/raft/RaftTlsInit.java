package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Makes a Raft group's credential ({@code redoubt raft tls-init}): an EC P-256 key and a self-signed
 * certificate in a PKCS12 keystore, and the keystore's random password in a file beside it, both readable by
 * the owner only. The JDK's own {@code keytool} does the cryptography (no extra library); the password reaches
 * it through the file, never a command line.
 *
 * <p>The certificate names no host: members recognize each other by the key ({@link GroupTrustManager}).
 */
public final class RaftTlsInit {
    public static final int DEFAULT_VALIDITY_DAYS = 3650;
    public static final int VALIDITY_DAYS_MAX = 36500;
    static final String ALIAS = "redoubt-raft-group";
    private static final long KEYTOOL_TIMEOUT_SECONDS = 120;
    private static final int PASSWORD_RANDOM_BYTES = 32;
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    private RaftTlsInit() {
    }

    /**
     * Writes a new credential into {@code dir} (created if missing) and returns it loaded. Refuses to replace an
     * existing credential: a group whose members hold different credentials cannot talk.
     */
    public static RaftTls create(Path dir, int validityDays) {
        return create(dir, validityDays, null);
    }

    /** As above, the certificate starting at {@code startDate} (keytool's {@code -startdate}, e.g. "-2d"): for tests. */
    static RaftTls create(Path dir, int validityDays, String startDate) {
        if (validityDays < 1 || validityDays > VALIDITY_DAYS_MAX) {
            throw new IllegalArgumentException("the validity must be 1.." + VALIDITY_DAYS_MAX + " days, got " + validityDays);
        }
        Path keystore = dir.resolve(RaftTls.KEYSTORE_FILE);
        Path password = dir.resolve(RaftTls.PASSWORD_FILE);
        for (Path f : List.of(keystore, password)) {
            if (Files.exists(f)) {
                throw new StorageException(ErrorCode.INVALID_STATE, f + " already exists: this directory holds a"
                        + " group credential; choose another --dir (replacing it would lock out every member that"
                        + " holds the old one)");
            }
        }
        try {
            createDirectory(dir);
            writePassword(password);
            try {
                runKeytool(keystore, password, validityDays, startDate);
                restrict(keystore, OWNER_ONLY_FILE);
            } catch (RuntimeException | IOException e) {
                Files.deleteIfExists(keystore);
                Files.deleteIfExists(password);
                throw e;
            }
        } catch (IOException e) {
            throw StorageException.fromIo("writing a Raft group credential in " + dir, e);
        }
        return RaftTls.load(dir);
    }

    private static void createDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir); // not a POSIX file system: its own access rules apply
        }
    }

    private static void writePassword(Path file) throws IOException {
        byte[] random = new byte[PASSWORD_RANDOM_BYTES];
        new SecureRandom().nextBytes(random);
        String text = Base64.getUrlEncoder().withoutPadding().encodeToString(random) + "\n";
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        } catch (FileAlreadyExistsException e) {
            throw new StorageException(ErrorCode.INVALID_STATE, file + " appeared while the credential was being made;"
                    + " run tls-init alone on a directory", e);
        }
        restrict(file, OWNER_ONLY_FILE); // createFile's mode is subject to the umask; say it again
        Files.writeString(file, text, StandardCharsets.US_ASCII);
    }

    private static void restrict(Path file, Set<PosixFilePermission> permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(file, permissions);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }

    private static void runKeytool(Path keystore, Path password, int validityDays, String startDate) throws IOException {
        Path keytool = keytool();
        List<String> command = new ArrayList<>(List.of(keytool.toString(), "-genkeypair", "-noprompt",
                "-alias", ALIAS, "-keyalg", "EC", "-keysize", "256", "-sigalg", "SHA256withECDSA",
                "-dname", "CN=Redoubt Raft group", "-validity", Integer.toString(validityDays),
                "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass:file", password.toString()));
        if (startDate != null) {
            command.addAll(List.of("-startdate", startDate));
        }
        Path log = Files.createTempFile("redoubt-keytool-", ".txt");
        Process process = null;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            process.getOutputStream().close(); // keytool must never wait for a prompt
            if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new StorageException(ErrorCode.IO, "keytool did not finish in " + KEYTOOL_TIMEOUT_SECONDS
                        + " s; run tls-init again");
            }
            if (process.exitValue() != 0 || !Files.isRegularFile(keystore)) {
                throw new StorageException(ErrorCode.IO, "keytool failed (exit " + process.exitValue() + "): "
                        + Files.readString(log).trim());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new StorageException(ErrorCode.IO, "interrupted while keytool made the group credential");
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The JDK's keytool, beside the java binary of this JVM. */
    private static Path keytool() {
        Path bin = Path.of(System.getProperty("java.home"), "bin");
        for (String name : List.of("keytool", "keytool.exe")) {
            if (Files.isExecutable(bin.resolve(name))) {
                return bin.resolve(name);
            }
        }
        throw new StorageException(ErrorCode.INVALID_STATE, "no keytool beside this JVM's java (in " + bin + "):"
                + " run tls-init with a JDK or JRE that includes keytool");
    }
}
