package io.tracerboy.edge;

import io.tracerboy.ingest.AnalyticsQuery;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.ingest.TrackedEvent;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * {@code POST /analytics}: validates the query and publishes the event into the ring, answering {@code 204} once it is
 * there. Runs on the IO thread and never blocks: a full ring answers {@code 503} with {@code Retry-After}.
 */
final class IngestHandler implements HttpHandler {
    private final EventRing ring;
    private final LongSupplier millisClock;
    private final ServiceState state;
    final LongAdder rejectedInvalid = new LongAdder();
    final LongAdder rejectedShuttingDown = new LongAdder();

    IngestHandler(EventRing ring, LongSupplier millisClock, ServiceState state) {
        this.ring = ring;
        this.millisClock = millisClock;
        this.state = state;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (!state.accepting) {
            rejectedShuttingDown.increment();
            Replies.unavailable(exchange, 1, "shutting down: not accepting events; send them to another replica");
            return;
        }
        TrackedEvent event;
        try {
            event = AnalyticsQuery.parseEvent(exchange.getQueryString(), millisClock.getAsLong());
        } catch (InvalidRequestException bad) {
            rejectedInvalid.increment();
            Replies.line(exchange, 400, bad.getMessage());
            return;
        }
        if (ring.tryPublish(event.timestampMs(), event.userId(), event.kind())) {
            Replies.noContent(exchange);
        } else {
            Replies.unavailable(exchange, 1, "buffer full: the database is not keeping up; retry later");
        }
    }
}
