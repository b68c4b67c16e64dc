package io.tracerboy.edge;

import io.tracerboy.ingest.AnalyticsQuery;
import io.tracerboy.ingest.CommitListener;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.ingest.TrackedEvent;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.SameThreadExecutor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * {@code POST /analytics}: validates the query and publishes the event into the ring. In {@code buffered} mode it
 * answers {@code 204} at once; in {@code committed} mode it suspends the exchange and the writer thread resumes it once
 * the batch holding the event has committed. Runs on the IO thread and never blocks: a full ring answers {@code 503}
 * with {@code Retry-After}.
 */
final class IngestHandler implements HttpHandler {
    private final EventRing ring;
    private final LongSupplier millisClock;
    private final ServiceState state;
    private final boolean ackOnCommit;
    private final long maxBodyBytes;
    final LongAdder rejectedInvalid = new LongAdder();
    final LongAdder rejectedShuttingDown = new LongAdder();
    final LongAdder rejectedTooLarge = new LongAdder();

    IngestHandler(EventRing ring, LongSupplier millisClock, ServiceState state, AckMode ackMode, long maxBodyBytes) {
        this.ring = ring;
        this.millisClock = millisClock;
        this.state = state;
        this.ackOnCommit = ackMode == AckMode.COMMITTED;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        long bodyBytes = exchange.getRequestContentLength();
        if (bodyBytes > maxBodyBytes) {
            // Undertow enforces MAX_ENTITY_SIZE only on a body that is read, and this handler reads none.
            rejectedTooLarge.increment();
            exchange.setPersistent(false);
            Replies.line(exchange, 413, "request body: expected at most " + maxBodyBytes + " bytes (the event goes in "
                    + "the query string), found " + bodyBytes + " bytes");
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
        if (ackOnCommit) {
            // Dispatch first, so the exchange is suspended before the writer can complete it; the task runs on this
            // IO thread as soon as the handler returns.
            exchange.dispatch(SameThreadExecutor.INSTANCE, () -> publish(exchange, event, new AnswerOnCommit(exchange)));
        } else {
            publish(exchange, event, null);
        }
    }

    private void publish(HttpServerExchange exchange, TrackedEvent event, CommitListener listener) {
        if (!state.enterPublish()) {
            rejectedShuttingDown.increment();
            Replies.unavailable(exchange, 1, "shutting down: not accepting events; send them to another replica");
            return;
        }
        boolean published;
        try {
            published = ring.tryPublish(event.timestampMs(), event.userId(), event.kind(), listener);
        } finally {
            state.exitPublish();
        }
        if (!published) {
            Replies.unavailable(exchange, 1, "buffer full: the database is not keeping up; retry later");
        } else if (listener == null) {
            Replies.noContent(exchange);
        }
    }

    /** Completes a suspended exchange from the writer thread by handing the answer to the exchange's IO thread. */
    private static final class AnswerOnCommit implements CommitListener {
        private final HttpServerExchange exchange;

        AnswerOnCommit(HttpServerExchange exchange) {
            this.exchange = exchange;
        }

        @Override
        public void onCommitted() {
            exchange.getIoThread().execute(() -> Replies.noContent(exchange));
        }

        @Override
        public void onAbandoned() {
            exchange.getIoThread().execute(() -> Replies.unavailable(exchange, 1,
                    "not written: the service stopped while the database was unreachable; send the event again"));
        }
    }
}
