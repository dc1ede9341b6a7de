package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A group credential as {@code tls-init} writes it and as members load it: owner-only files, never replaced,
 * and every way loading can fail says what to do (missing file, wrong password, expired certificate).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RaftTlsTest {
    @TempDir
    Path tmp;

    @Test
    void theCredentialIsOwnerOnlyAndValidForTheDaysAsked() throws Exception {
        Path dir = TestCredentials.groupDir();
        RaftTls tls = RaftTls.load(dir);
        assertThat(tls.notAfter()).isBetween(Instant.now().plus(Duration.ofDays(29)), Instant.now().plus(Duration.ofDays(31)));
        assertThat(tls.fingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
        assertThat(tls.fingerprint()).isNotEqualTo(TestCredentials.other().fingerprint());
        for (String f : new String[] {RaftTls.KEYSTORE_FILE, RaftTls.PASSWORD_FILE}) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(f)))).as(f).isEqualTo("rw-------");
        }
    }

    @Test
    void anExistingCredentialIsNeverReplaced() throws Exception {
        Path dir = copy(TestCredentials.groupDir(), "copy");
        byte[] before = Files.readAllBytes(dir.resolve(RaftTls.KEYSTORE_FILE));
        assertThatThrownBy(() -> RaftTlsInit.create(dir, 30)).isInstanceOf(StorageException.class)
                .hasMessageContaining("already exists").hasMessageContaining("choose another --dir");
        assertThat(Files.readAllBytes(dir.resolve(RaftTls.KEYSTORE_FILE))).isEqualTo(before);
    }

    @Test
    void aMissingFileIsNamedWithTheFix() {
        assertThatThrownBy(() -> RaftTls.load(tmp.resolve("nothing-here"))).isInstanceOf(StorageException.class)
                .hasMessageContaining(RaftTls.KEYSTORE_FILE + " is missing").hasMessageContaining("redoubt raft tls-init");
    }

    @Test
    void aPasswordThatDoesNotOpenTheKeystoreIsNamed() throws Exception {
        Path dir = copy(TestCredentials.groupDir(), "wrong-password");
        Files.copy(TestCredentials.otherDir().resolve(RaftTls.PASSWORD_FILE), dir.resolve(RaftTls.PASSWORD_FILE),
                StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> RaftTls.load(dir)).isInstanceOf(StorageException.class)
                .hasMessageContaining("does not open").hasMessageContaining("same `redoubt raft tls-init`");
    }

    @Test
    void anExpiredCertificateIsRefusedWithTheFix() {
        assertThatThrownBy(() -> RaftTlsInit.create(tmp.resolve("expired"), 1, "-3d"))
                .isInstanceOf(StorageException.class).hasMessageContaining("expired on")
                .hasMessageContaining("tls-init --dir NEWDIR")
                .satisfies(e -> assertThat(((StorageException) e).code()).isEqualTo(ErrorCode.INVALID_STATE));
    }

    @Test
    void aValidityOutsideTheBoundsIsRefused() {
        assertThatThrownBy(() -> RaftTlsInit.create(tmp.resolve("x"), 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Files.exists(tmp.resolve("x"))).isFalse();
    }

    private Path copy(Path from, String name) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve(name));
        for (String f : new String[] {RaftTls.KEYSTORE_FILE, RaftTls.PASSWORD_FILE}) {
            Files.copy(from.resolve(f), dir.resolve(f));
        }
        return dir;
    }
}
