package io.tracerboy.ingest;

/** Renders client-sent values inside one-line error messages: control characters escaped, long values cut. */
final class Messages {
    static final int MAX_SHOWN_CHARS = 64;

    private Messages() {
    }

    /** The value as it appears between quotes in a message: at most 64 characters, never a line break. */
    static String shown(String value) {
        return shown(value, false);
    }

    /**
     * A raw, undecoded query value for a message: like {@link #shown(String)}, but the bytes Undertow passes through as
     * ISO-8859-1 characters (raw, unescaped non-ASCII in the request line) are written back as {@code %XX}.
     */
    static String shownRaw(String value) {
        return shown(value, true);
    }

    private static String shown(String value, boolean raw) {
        StringBuilder out = new StringBuilder(Math.min(value.length(), MAX_SHOWN_CHARS) + 8);
        int limit = Math.min(value.length(), MAX_SHOWN_CHARS);
        if (limit < value.length() && Character.isHighSurrogate(value.charAt(limit - 1))) {
            limit--;
        }
        for (int i = 0; i < limit; i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\0' -> out.append("\\0");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else if (raw && c >= 0x80) {
                        out.append(String.format("%%%02X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (value.length() > limit) {
            out.append("…");
        }
        return out.toString();
    }
}
