package dev.redoubt.testsupport.linearizability;

import java.nio.charset.StandardCharsets;

/**
 * Register values are {@link String}s, compared with {@code equals}; {@code null} is "absent". Byte-array values
 * (keys and values of the engine) map to strings one byte per char through ISO-8859-1, which is lossless both ways,
 * so two arrays are the same value exactly when their contents are equal. Strings were chosen over {@code byte[]}
 * because they compare by content, hash, and print in a failure report as they are.
 */
public final class RegisterValues {
    /** A value longer than this prints cut short, with its length. */
    static final int PRINTED_CHARS_MAX = 40;

    private RegisterValues() {
    }

    /** The register value of {@code bytes} ({@code null}, absent, stays {@code null}). */
    public static String fromBytes(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** The bytes of a register value ({@code null} stays {@code null}). */
    public static byte[] toBytes(String value) {
        return value == null ? null : value.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A value as a failure report shows it: quoted, non-printable chars escaped, or {@code absent}. */
    static String describe(String value) {
        if (value == null) {
            return "absent";
        }
        StringBuilder out = new StringBuilder("\"");
        int shown = Math.min(value.length(), PRINTED_CHARS_MAX);
        for (int i = 0; i < shown; i++) {
            char c = value.charAt(i);
            if (c > 0xff) {
                out.append(String.format("\\u%04x", (int) c));
            } else if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
        if (shown < value.length()) {
            out.append("...(").append(value.length()).append(" chars)");
        }
        return out.toString();
    }
}
