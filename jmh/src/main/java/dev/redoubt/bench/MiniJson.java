package dev.redoubt.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader for JMH's result files ({@code -rf json}): objects become {@code LinkedHashMap}s, arrays
 * {@code ArrayList}s, numbers {@code Double}s, plus strings, booleans and null. Enough for {@link BenchCharts};
 * not a general-purpose parser (no streaming, whole document in memory). {@link #write} goes the other way, for
 * the harnesses' result files.
 */
final class MiniJson {
    private final String s;
    private int at;

    private MiniJson(String s) {
        this.s = s;
    }

    static Object parse(String text) {
        MiniJson p = new MiniJson(text);
        Object v = p.value();
        p.skipSpace();
        if (p.at != text.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    /** A JSON number, or one JMH wrote as a string ("NaN", "Infinity"); null and anything else: NaN. */
    static Number number(Object o) {
        if (o instanceof Number) {
            return (Number) o;
        }
        if (o instanceof String) {
            try {
                return Double.valueOf((String) o);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    /**
     * {@code value} as indented JSON: maps (string keys, in their order), lists, numbers (NaN and infinities as
     * null), strings, booleans and null; anything else is an {@link IllegalArgumentException}.
     */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out, "");
        return out.append('\n').toString();
    }

    private static void write(Object v, StringBuilder out, String indent) {
        if (v == null || v instanceof Boolean) {
            out.append(v);
        } else if (v instanceof Number n) {
            double d = n.doubleValue();
            boolean integral = v instanceof Integer || v instanceof Long;
            out.append(Double.isNaN(d) || Double.isInfinite(d) ? "null" : integral ? n.toString() : Double.toString(d));
        } else if (v instanceof String str) {
            quote(str, out);
        } else if (v instanceof Map<?, ?> m) {
            String inner = indent + "  ";
            out.append('{');
            String sep = "\n";
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.append(sep).append(inner);
                quote((String) e.getKey(), out);
                out.append(": ");
                write(e.getValue(), out, inner);
                sep = ",\n";
            }
            out.append(m.isEmpty() ? "}" : "\n" + indent + "}");
        } else if (v instanceof List<?> l) {
            boolean nested = l.stream().anyMatch(e -> e instanceof Map || e instanceof List); // one per line
            String inner = indent + "  ";
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                out.append(i == 0 ? "" : ",").append(nested ? "\n" + inner : i == 0 ? "" : " ");
                write(l.get(i), out, inner);
            }
            out.append(nested ? "\n" + indent + "]" : "]");
        } else {
            throw new IllegalArgumentException("JSON: cannot write a " + v.getClass().getName());
        }
    }

    private static void quote(String str, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private Object value() {
        skipSpace();
        if (at >= s.length()) {
            throw error("unexpected end");
        }
        char c = s.charAt(at);
        switch (c) {
            case '{':
                return object();
            case '[':
                return array();
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                return number();
        }
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        at++;
        skipSpace();
        if (peek() == '}') {
            at++;
            return m;
        }
        while (true) {
            skipSpace();
            String k = string();
            skipSpace();
            expect(':');
            m.put(k, value());
            skipSpace();
            char c = next();
            if (c == '}') {
                return m;
            }
            if (c != ',') {
                throw error("expected , or }");
            }
        }
    }

    private List<Object> array() {
        List<Object> a = new ArrayList<>();
        at++;
        skipSpace();
        if (peek() == ']') {
            at++;
            return a;
        }
        while (true) {
            a.add(value());
            skipSpace();
            char c = next();
            if (c == ']') {
                return a;
            }
            if (c != ',') {
                throw error("expected , or ]");
            }
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return sb.toString();
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case 'n': sb.append('\n'); break;
                case 't': sb.append('\t'); break;
                case 'r': sb.append('\r'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'u':
                    if (at + 4 > s.length()) {
                        throw error("bad \\u escape");
                    }
                    sb.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                    at += 4;
                    break;
                default: sb.append(e); // " \ /
            }
        }
    }

    private Double number() {
        int start = at;
        while (at < s.length() && "+-0123456789.eE".indexOf(s.charAt(at)) >= 0) {
            at++;
        }
        if (start == at) {
            throw error("unexpected character '" + s.charAt(at) + "'");
        }
        return Double.valueOf(s.substring(start, at));
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, at)) {
            throw error("expected " + word);
        }
        at += word.length();
        return v;
    }

    private void skipSpace() {
        while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
            at++;
        }
    }

    private char peek() {
        return at < s.length() ? s.charAt(at) : '\0';
    }

    private char next() {
        if (at >= s.length()) {
            throw error("unexpected end");
        }
        return s.charAt(at++);
    }

    private void expect(char c) {
        if (next() != c) {
            throw error("expected '" + c + "'");
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("JSON: " + what + " at character " + at);
    }
}
