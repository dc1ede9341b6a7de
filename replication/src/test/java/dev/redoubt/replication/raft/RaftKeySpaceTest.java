package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.nio.file.Path;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.Test;

/** The layout {@link RaftKeySpace} documents, byte for byte, and its decoder on damaged bytes. */
class RaftKeySpaceTest {
    private static final Path DIR = Path.of("member", "db");

    @Test
    void aClientKeyIsStoredAfterTheUserPrefixAndComesBack() {
        byte[] stored = RaftKeySpace.stored(new byte[] {'k', 0x00});
        assertThat(stored).containsExactly(0x01, 'k', 0x00);
        assertThat(RaftKeySpace.userKey(stored)).containsExactly('k', 0x00);
        assertThat(RaftKeySpace.stored(new byte[0])).containsExactly(0x01);
        assertThat(RaftKeySpace.userKeysEnd()).containsExactly(0x02);
    }

    @Test
    void anEngineKeyOutsideTheClientKeysIsNoClientKey() {
        assertThatThrownBy(() -> RaftKeySpace.userKey(RaftKeySpace.APPLIED_KEY))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RaftKeySpace.userKey(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theAppliedKeyIsMetadataAndItsValueIsTermThenIndexBigEndian() {
        assertThat(RaftKeySpace.APPLIED_KEY).hasSize(13).startsWith(0x00);
        byte[] value = RaftKeySpace.appliedValue(TermIndex.valueOf(2, 258));
        assertThat(value).containsExactly(0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 2);
        assertThat(RaftKeySpace.decodeApplied(value, DIR)).isEqualTo(TermIndex.valueOf(2, 258));
        assertThat(RaftKeySpace.decodeApplied(null, DIR)).isNull();
    }

    @Test
    void anAppliedValueOfAnotherLengthIsCorruption() {
        for (int length : new int[] {0, 15, 17}) {
            assertThatThrownBy(() -> RaftKeySpace.decodeApplied(new byte[length], DIR))
                    .isInstanceOf(StorageException.class)
                    .satisfies(e -> assertThat(((StorageException) e).code()).isEqualTo(ErrorCode.CORRUPTION))
                    .hasMessageContaining(length + " bytes, not 16").hasMessageContaining(DIR.toString());
        }
    }
}
