package io.tracerboy.ingest;

/** Renders client-sent values inside one-line error messages: control characters escaped, long values cut. */
final class Messages {
    static final int MAX_SHOWN_CHARS = 64;

    private Messages() {
    }

    /** The value as it appears between quotes in a message: at most 64 characters, never a line break. */
    static String shown(String value) {
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
