package io.tracerboy.ingest;

import java.time.Instant;

/**
 * Parses and validates the query strings of {@code POST /analytics} and {@code GET /analytics}. Runs on Undertow IO
 * threads: no I/O, no locks. Every refusal is an {@link InvalidRequestException} whose message names the parameter and
 * the value it found.
 */
public final class AnalyticsQuery {
    /** Longest accepted user id, in UTF-8 bytes. */
    public static final int MAX_USER_BYTES = 256;
    /**
     * Earliest accepted timestamp, 1973-03-03T09:46:40Z. Anything earlier is far more likely a timestamp in seconds (a
     * seconds value of today, read as milliseconds, falls in January 1970) than a real event from before 1973.
     */
    public static final long MIN_TIMESTAMP_MS = 100_000_000_000L;
    /** Latest accepted timestamp, 9999-12-31T23:59:59.999Z. */
    public static final long MAX_TIMESTAMP_MS = 253_402_300_799_999L;
    /**
     * The latest value read as "seconds" for the hint to multiply by 1000: 2100-01-01T00:00:00Z. Past it the product
     * is a date no tracker sends (99999999999 × 1000 is in the year 5138), so the hint would mislead.
     */
    static final long LATEST_PLAUSIBLE_SECONDS = 4_102_444_800L;

    /** Longest accepted event id, in UTF-8 bytes. */
    public static final int MAX_EVENT_ID_BYTES = 64;

    private static final String[] POST_NAMES = {"timestamp", "user", "event", "id"};
    private static final String[] GET_NAMES = {"timestamp"};

    private AnalyticsQuery() {
    }

    /** Validates a POST query; a missing {@code timestamp} takes {@code nowMs}, the server's receive time. */
    public static TrackedEvent parseEvent(String rawQuery, long nowMs, EventWindow window) {
        String[] values = new String[POST_NAMES.length];
        QueryString.decode(rawQuery, POST_NAMES, values);
        return event(values[0], values[1], values[2], values[3], nowMs, window);
    }

    /**
     * Validates one event's fields as sent (null when absent), by the rules both the query form and the batch body
     * follow; a missing {@code timestamp} takes {@code nowMs}, unless the event has an id; a timestamp sent must lie
     * in {@code window}.
     */
    static TrackedEvent event(String timestamp, String user, String event, String eventId, long nowMs,
                              EventWindow window) {
        if (eventId != null && timestamp == null) {
            throw new InvalidRequestException("timestamp: expected a value with id, so that a resent event lands in "
                    + "the same hour, found nothing");
        }
        long timestampMs = timestamp == null ? nowMs : parseTimestamp(timestamp);
        if (timestamp != null) {
            window.check(timestampMs, nowMs);
        }
        String validUser = validText("user", "a user id", user, MAX_USER_BYTES);
        EventKind kind = event == null ? null : EventKind.fromWireName(event);
        if (kind == null) {
            throw new InvalidRequestException("event: expected click or impression, found " + found(event));
        }
        String validId = eventId == null ? null : validText("id", "an event id", eventId, MAX_EVENT_ID_BYTES);
        return new TrackedEvent(timestampMs, validUser, kind, validId);
    }

    /** Validates a GET query and answers the start of the UTC hour it asks for (the current hour when absent). */
    public static long parseHourStartMs(String rawQuery, long nowMs) {
        String[] values = new String[1];
        QueryString.decode(rawQuery, GET_NAMES, values);
        long timestampMs = values[0] == null ? nowMs : parseTimestamp(values[0]);
        return hourStartMs(timestampMs);
    }

    /** The start of the UTC hour holding the instant. */
    public static long hourStartMs(long timestampMs) {
        return Hours.startMs(timestampMs);
    }

    static long parseTimestamp(String text) {
        int length = text.length();
        boolean digits = length > 0;
        for (int i = 0; i < length && digits; i++) {
            char c = text.charAt(i);
            digits = c >= '0' && c <= '9';
        }
        if (!digits) {
            throw new InvalidRequestException("timestamp: expected a whole, non-negative number of milliseconds since "
                    + "the epoch, found " + found(text));
        }
        // Length is not magnitude: leading zeros are fine, so skip them before comparing with the 15-digit maximum.
        int firstDigit = 0;
        while (firstDigit < length - 1 && text.charAt(firstDigit) == '0') {
            firstDigit++;
        }
        if (length - firstDigit > 15) {
            throw tooLate(text);
        }
        long value = Long.parseLong(text, firstDigit, length, 10);
        if (value > MAX_TIMESTAMP_MS) {
            throw tooLate(text);
        }
        if (value < MIN_TIMESTAMP_MS) {
            if (value >= MIN_TIMESTAMP_MS / 1000 && value <= LATEST_PLAUSIBLE_SECONDS) {
                throw new InvalidRequestException("timestamp: expected milliseconds since the epoch, found " + found(
                        text)
                        + ", which looks like seconds (" + Instant.ofEpochSecond(value) + "); multiply it by 1000");
            }
            throw new InvalidRequestException("timestamp: expected milliseconds since the epoch from "
                    + MIN_TIMESTAMP_MS
                    + " (" + Instant.ofEpochMilli(MIN_TIMESTAMP_MS) + "), found " + found(text));
        }
        return value;
    }

    private static InvalidRequestException tooLate(String text) {
        return new InvalidRequestException("timestamp: expected milliseconds since the epoch up to " + MAX_TIMESTAMP_MS
                + " (" + Instant.ofEpochMilli(MAX_TIMESTAMP_MS) + "), found " + found(text));
    }

    /**
     * Checks an identifier the client chose: 1 to {@code maxBytes} bytes of UTF-8, no NUL (PostgreSQL text cannot hold
     * it), no lone surrogate (a JSON escape can carry one; it has no UTF-8 form). Answers it unchanged.
     */
    private static String validText(String name, String what, String value, int maxBytes) {
        if (value == null || value.isEmpty()) {
            throw new InvalidRequestException(name + ": expected " + what + " of 1 to " + maxBytes + " bytes, found "
                    + found(value));
        }
        int bytes = 0;
        int length = value.length();
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            if (c == '\0') {
                throw new InvalidRequestException(name + ": expected no NUL character (%00), found " + found(value));
            }
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < length
                        && Character.isLowSurrogate(value.charAt(i + 1));
                if (!paired) {
                    throw new InvalidRequestException(name + ": expected Unicode text, found a lone surrogate (\\u"
                            + String.format("%04x", (int) c) + ") in " + found(value));
                }
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        if (bytes > maxBytes) {
            throw new InvalidRequestException(name + ": expected " + what + " of 1 to " + maxBytes + " bytes, found "
                    + bytes + " bytes: " + found(value));
        }
        return value;
    }

    private static String found(String value) {
        return value == null ? "nothing" : "'" + Messages.shown(value) + "'";
    }
}
