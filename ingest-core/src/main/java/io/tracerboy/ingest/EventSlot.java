package io.tracerboy.ingest;

/**
 * One pre-allocated ring-buffer slot. Producers fill it inside {@link EventRing#tryPublish}; the consumer copies it
 * into its batch and clears the references so the ring never keeps a user id alive.
 */
final class EventSlot {
    long timestampMs;
    String userId;
    EventKind kind;
    String eventId;
    long publishedNanos;
    CommitListener listener;
    RequestKey request;

    void clear() {
        userId = null;
        kind = null;
        eventId = null;
        listener = null;
        request = null;
    }
}
