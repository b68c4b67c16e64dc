package io.tracerboy.ingest;

/**
 * One valid tracking event as accepted at the edge: when it happened, who did it, what it was, and optionally the id
 * its sender gave it, which makes a resend count once ({@code null} when none was given).
 */
public record TrackedEvent(long timestampMs, String userId, EventKind kind, String eventId) {
    /** An event without an id. */
    public TrackedEvent(long timestampMs, String userId, EventKind kind) {
        this(timestampMs, userId, kind, null);
    }
}
