package io.tracerboy.ingest;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A strict decoder of an {@code application/x-www-form-urlencoded} query string, used instead of Undertow's lenient
 * one: {@code +} and {@code %20} are spaces, a malformed escape or invalid UTF-8 is an {@link InvalidRequestException}
 * naming the parameter, and a repeated parameter is refused rather than silently taking the first value.
 * Only the parameters the caller names are decoded; others are skipped. Not thread-safe per instance.
 */
public final class QueryString {
    private static final ThreadLocal<CharsetDecoder> UTF8 = ThreadLocal.withInitial(() -> StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT));

    private QueryString() {
    }

    /**
     * Decodes the values of {@code names} from the raw query (may be {@code null}); {@code values[i]} receives the
     * value of {@code names[i]} or stays {@code null} when the parameter is absent. Parameter names are matched before
     * decoding, so {@code us%65r} is not {@code user}.
     */
    public static void decode(String rawQuery, String[] names, String[] values) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return;
        }
        int length = rawQuery.length();
        int start = 0;
        while (start <= length) {
            int end = rawQuery.indexOf('&', start);
            if (end < 0) {
                end = length;
            }
            int eq = rawQuery.indexOf('=', start);
            int nameEnd = eq < 0 || eq > end ? end : eq;
            for (int i = 0; i < names.length; i++) {
                String name = names[i];
                if (nameEnd - start == name.length() && rawQuery.startsWith(name, start)) {
                    if (values[i] != null) {
                        throw new InvalidRequestException(name + ": expected one value, found the parameter repeated");
                    }
                    int valueStart = nameEnd == end ? end : nameEnd + 1;
                    values[i] = decodeValue(name, rawQuery, valueStart, end);
                    break;
                }
            }
            start = end + 1;
        }
    }

    private static String decodeValue(String name, String raw, int from, int to) {
        boolean plain = true;
        for (int i = from; i < to; i++) {
            char c = raw.charAt(i);
            if (c == '%' || c == '+' || c >= 0x80) {
                plain = false;
                break;
            }
        }
        if (plain) {
            return raw.substring(from, to);
        }
        byte[] bytes = new byte[to - from];
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = raw.charAt(i);
            if (c == '+') {
                bytes[n++] = ' ';
            } else if (c == '%') {
                int hi = i + 1 < to ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = i + 2 < to ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0) {
                    String bad = raw.substring(i, Math.min(i + 3, to));
                    throw new InvalidRequestException(name
                            + ": expected valid percent-encoding (%XX with two hex digits), found '"
                            + Messages.shownRaw(bad) + "' in '" + Messages.shownRaw(raw.substring(from, to)) + "'");
                }
                bytes[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c >= 0x100) {
                // Undertow hands raw request-line bytes over as ISO-8859-1 chars; anything wider cannot come from the
                // wire.
                throw new InvalidRequestException(name + ": expected percent-encoded UTF-8, found '"
                        + Messages.shown(raw.substring(from, to)) + "'");
            } else {
                bytes[n++] = (byte) c;
            }
        }
        try {
            CharBuffer chars = UTF8.get().reset().decode(ByteBuffer.wrap(bytes, 0, n));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new InvalidRequestException(name + ": expected UTF-8 text, found an invalid byte sequence in '"
                    + Messages.shownRaw(raw.substring(from, to)) + "'");
        }
    }
}
