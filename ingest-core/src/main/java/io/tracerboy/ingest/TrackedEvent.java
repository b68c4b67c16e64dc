package io.tracerboy.ingest;

/** One valid tracking event as accepted at the edge: when it happened, who did it, and what it was. */
public record TrackedEvent(long timestampMs, String userId, EventKind kind) {
}
