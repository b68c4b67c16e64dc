package io.tracerboy.ingest;

import java.time.Instant;

/**
 * The timestamps an event may carry, against the server's clock when it arrives: no older than the data kept for it
 * ({@code maxAgeMs}, named by the setting {@code ageSetting} that bounds it: an older event would land in a day
 * already dropped, or in an hour whose set of users is gone, where a user could count twice), and no further ahead
 * than {@link #AHEAD_MS}, a clock skew no honest client has.
 */
public record EventWindow(long maxAgeMs, String ageSetting) {
    /** The furthest ahead of the server's clock an event may be dated. */
    public static final long AHEAD_MS = 24 * Hours.HOUR_MS;
    /** Every timestamp the format allows (for tests and benchmarks of parsing alone). */
    public static final EventWindow ANY = new EventWindow(Long.MAX_VALUE, "");

    /** Refuses {@code timestampMs}, received at {@code nowMs}, when it lies outside the window. */
    void check(long timestampMs, long nowMs) {
        if (nowMs - timestampMs > maxAgeMs) {
            throw new InvalidRequestException("timestamp: expected at most " + maxAgeMs / Hours.HOUR_MS
                    + " hours old (" + ageSetting + "), found " + timestampMs + " (" + Instant.ofEpochMilli(timestampMs)
                    + ", " + (nowMs - timestampMs) / Hours.HOUR_MS + " hours old)");
        }
        if (maxAgeMs != Long.MAX_VALUE && timestampMs - nowMs > AHEAD_MS) {
            throw new InvalidRequestException("timestamp: expected at most " + AHEAD_MS / Hours.HOUR_MS
                    + " hours ahead of the server's clock, found " + timestampMs + " (" + Instant.ofEpochMilli(
                    timestampMs) + ", " + (timestampMs - nowMs) / Hours.HOUR_MS + " hours ahead)");
        }
    }
}
