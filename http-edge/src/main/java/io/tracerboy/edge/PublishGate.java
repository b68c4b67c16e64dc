package io.tracerboy.edge;

import io.tracerboy.ingest.CommitListener;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.RequestKey;
import io.tracerboy.ingest.TrackedEvent;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The one way into the ring for both ingest handlers: it runs every publish inside {@link ServiceState}'s gate, counts
 * every refusal once ({@code tracerboy_events_rejected_total} by reason) and owns the text every refusal is answered
 * with. Called on IO and worker threads; holds no per-request state.
 */
final class PublishGate {
    /** Why the gate refused events; each is answered {@code 503} with {@code Retry-After: 1} and {@link #reason()}. */
    enum Refusal {
        RING_FULL(PipelineStats.Rejection.RING_FULL, "buffer full: the database is not keeping up; retry later"),
        SHUTTING_DOWN(PipelineStats.Rejection.SHUTTING_DOWN,
                "shutting down: not accepting events; send them to another replica");

        private final PipelineStats.Rejection counted;
        private final String reason;

        Refusal(PipelineStats.Rejection counted, String reason) {
            this.counted = counted;
            this.reason = reason;
        }

        /** The one-line reason the {@code 503} carries. */
        String reason() {
            return reason;
        }
    }

    /** A request that had already stopped every other request, answered {@code 503} by {@link InFlightRequests}. */
    static final String REQUESTS_REFUSED = "shutting down: not accepting requests; send them to another replica";

    /** Events published but abandoned by a stop while the database was away: certainly not stored. */
    static String notWritten(String what) {
        return "not written: the service stopped while the database was unreachable; send the " + what + " again";
    }

    /** One event whose batch's COMMIT reply was lost ({@code 504}: it may be stored). */
    static final String OUTCOME_UNKNOWN = "outcome unknown: the database connection was lost while committing this "
            + "event's batch and the service stopped before it could check; the event may be stored, so sending it "
            + "again may count it twice";

    /** Part of a batch may be stored ({@code 504}). */
    static final String BATCH_OUTCOME_UNKNOWN = "outcome unknown: the service stopped while the database was "
            + "unreachable and part of this batch may be stored; send it again only with event ids or its "
            + "Idempotency-Key";

    private final EventRing ring;
    private final PipelineStats stats;
    private final ServiceState state;

    PublishGate(EventRing ring, PipelineStats stats, ServiceState state) {
        this.ring = ring;
        this.stats = stats;
        this.state = state;
    }

    /** Publishes one event; null when the ring took it, otherwise the refusal, already counted. */
    Refusal publish(TrackedEvent event, CommitListener listener) {
        return through(() -> ring.tryPublish(event, listener), 1);
    }

    /** Publishes all the events in one claim or none; null when the ring took them, otherwise the counted refusal. */
    Refusal publishAll(List<TrackedEvent> events, CommitListener listener, RequestKey request) {
        return through(() -> ring.tryPublishAll(events, listener, request), events.size());
    }

    /**
     * The refusal, counted for {@code events}, that a publish of that many events would meet now (the service stops
     * or the ring lacks room), or null when it might succeed: lets a handler refuse before it spends CPU on parsing.
     */
    Refusal refusalFor(int events) {
        if (state.accepting && ring.hasRoomFor(events)) {
            return null;
        }
        return count(state.accepting ? Refusal.RING_FULL : Refusal.SHUTTING_DOWN, events);
    }

    private Refusal through(BooleanSupplier tryPublish, int events) {
        ServiceState.Publish outcome = state.publish(tryPublish);
        return switch (outcome) {
            case PUBLISHED -> null;
            case RING_FULL -> count(Refusal.RING_FULL, events);
            case SHUTTING_DOWN -> count(Refusal.SHUTTING_DOWN, events);
        };
    }

    private Refusal count(Refusal refusal, int events) {
        stats.reject(refusal.counted, events);
        return refusal;
    }
}
