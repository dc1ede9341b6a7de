package dev.redoubt.tool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code --json} output, without a library: an object keeps its keys in the order they were put (the
 * documented order; see recovery-tool/README.md), strings are escaped per RFC 8259, numbers are integers or
 * finite decimals, and the document is written on one line. Byte strings (keys, values) appear twice: as text
 * when they are valid UTF-8 (else null) and as lowercase hex ({@link #putBytes}).
 *
 * <p>Not thread-safe.
 */
final class Json {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    static Json object() {
        return new Json();
    }

    Json put(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    /** {@code key}: the bytes as UTF-8 text (null if they are not valid UTF-8); {@code keyHex}: the bytes in hex. */
    Json putBytes(String key, byte[] bytes) {
        fields.put(key, bytes == null ? null : Bytes.utf8OrNull(bytes));
        fields.put(key + "Hex", bytes == null ? null : Bytes.hex(bytes));
        return this;
    }

    static List<Object> array() {
        return new ArrayList<>();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        write(sb, this);
        return sb.toString();
    }

    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    static void write(StringBuilder sb, Object value) {
        if (value == null) {
            sb.append("null");
        } else if (value instanceof Json j) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : j.fields.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                string(sb, e.getKey());
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (value instanceof Iterable<?> list) {
            sb.append('[');
            boolean first = true;
            for (Object o : list) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
            sb.append(value);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                sb.append("null");
            } else {
                sb.append(String.format(java.util.Locale.ROOT, "%.3f", d));
            }
        } else if (value instanceof Number n) {
            sb.append(n.longValue());
        } else if (value instanceof Enum<?> e) {
            string(sb, e.name());
        } else {
            string(sb, value.toString());
        }
    }

    static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
