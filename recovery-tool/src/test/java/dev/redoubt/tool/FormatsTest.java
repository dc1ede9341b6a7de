package dev.redoubt.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON writer, the LSN notation and key encodings. */
class FormatsTest {
    @Test
    void jsonKeepsKeyOrderAndEscapes() {
        Json j = Json.object().put("z", 1).put("a", "q\"uote\\\n\t\u0001").put("n", null).put("b", true)
                .put("d", 1.5).put("list", List.of(1L, "x")).putBytes("k", new byte[] {(byte) 0xff});
        assertThat(j.toString()).isEqualTo("{\"z\":1,\"a\":\"q\\\"uote\\\\\\n\\t\\u0001\",\"n\":null,\"b\":true,"
                + "\"d\":1.500,\"list\":[1,\"x\"],\"k\":null,\"kHex\":\"ff\"}");
        assertThat(Json.object().put("nan", Double.NaN).toString()).isEqualTo("{\"nan\":null}");
    }

    @Test
    void lsnsAreDecimalBytePositions() {
        assertThat(Lsn.parse("0", "--from")).isZero();
        assertThat(Lsn.parse("1048576", "--from")).isEqualTo(1048576);
        for (String bad : List.of("", "-1", "0x10", "1e6", "1_000", " 1", "99999999999999999999")) {
            assertThatThrownBy(() -> Lsn.parse(bad, "--from")).isInstanceOf(CliException.class)
                    .extracting(e -> ((CliException) e).exitCode()).isEqualTo(ExitCodes.USAGE);
        }
        assertThat(Lsn.parseRange("100..800", "--kill-after")).containsExactly(100, 800);
        assertThatThrownBy(() -> Lsn.parseRange("800..100", "--kill-after")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Lsn.parseRange("100-800", "--kill-after")).hasMessageContaining("not a range");
    }

    @Test
    void keysAreUtf8OrHex() {
        assertThat(Bytes.parse("k1", false, "KEY")).containsExactly('k', '1');
        assertThat(Bytes.parse("0x6b31", true, "KEY")).containsExactly('k', '1');
        assertThat(Bytes.describe(new byte[] {'a', 0})).isEqualTo("0x6100");
        assertThat(Bytes.describe("ключ".getBytes(java.nio.charset.StandardCharsets.UTF_8))).isEqualTo("\"ключ\"");
        assertThatThrownBy(() -> Bytes.parse("xyz", true, "KEY")).hasMessageContaining("not hex");
    }
}
