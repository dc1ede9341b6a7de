package dev.redoubt.tool;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Keys and values on the command line and in output: UTF-8 text by default, hex with {@code --hex}. */
final class Bytes {
    private static final HexFormat HEX = HexFormat.of();

    private Bytes() {
    }

    /** Parses a key or value given on the command line. */
    static byte[] parse(String text, boolean hex, String what) {
        if (!hex) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        String digits = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
        try {
            return HEX.parseHex(digits);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(what + " \"" + text + "\" is not hex (an even number of digits 0-9, a-f)");
        }
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** The bytes as text when they are valid UTF-8, else null. */
    static String utf8OrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Output form: hex when asked, else the UTF-8 text (invalid bytes replaced). */
    static String format(byte[] bytes, boolean hex) {
        return hex ? hex(bytes) : new String(bytes, StandardCharsets.UTF_8);
    }

    /** For humans: quoted printable text, or 0x-hex when the bytes are not printable UTF-8. */
    static String describe(byte[] bytes) {
        if (bytes == null) {
            return "-";
        }
        String s = utf8OrNull(bytes);
        if (s != null && s.codePoints().allMatch(c -> c >= 0x20 && c != 0x7f)) {
            return "\"" + (s.length() > 60 ? s.substring(0, 57) + "..." : s) + "\"";
        }
        String h = hex(bytes);
        return "0x" + (h.length() > 60 ? h.substring(0, 57) + "..." : h);
    }

    /** Sizes for humans: 512 B, 4.0 KiB, 1.5 MiB. */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
