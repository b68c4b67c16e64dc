package io.tracerboy.edge;

import io.tracerboy.ingest.AnalyticsQuery;
import io.tracerboy.ingest.EventWindow;
import io.tracerboy.ingest.CommitListener;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.ingest.PipelineStats.Rejection;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.TrackedEvent;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;

/**
 * {@code POST /analytics}: validates the query and publishes the event into the ring. In {@code buffered} mode it
 * answers {@code 204} at once; in {@code committed} mode it suspends the exchange and the writer thread resumes it once
 * the batch holding the event has committed. A request with a body (which this endpoint does not use) is published only
 * once the whole body has arrived within the limits, so an oversized, stalled or cut-off body changes nothing. Runs on
 * the IO thread and never blocks: a full ring answers {@code 503} with {@code Retry-After}.
 */
final class IngestHandler implements HttpHandler {
    private final IngestContext context;
    private final PipelineStats stats;
    private final long maxBodyBytes;
    private final EventWindow window;

    IngestHandler(IngestContext context, long maxBodyBytes, EventWindow window) {
        this.context = context;
        this.stats = context.stats();
        this.maxBodyBytes = maxBodyBytes;
        this.window = window;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        long declaredBytes = exchange.getRequestContentLength();
        if (declaredBytes > maxBodyBytes) {
            tooLarge(exchange, declaredBytes + " bytes");
            return;
        }
        if (declaredBytes <= 0 && !exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING)) {
            accept(exchange, false);
            return;
        }
        RequestBodies.read(exchange, maxBodyBytes, false, context.requestTimeoutMs(),
                (ex, ignored, bodyBytes) -> accept(ex, bodyBytes > 0), this::tooLarge);
    }

    private void tooLarge(HttpServerExchange exchange, String found) {
        stats.reject(Rejection.TOO_LARGE);
        exchange.setPersistent(false);
        Replies.line(exchange, 413, "request body: expected at most " + maxBodyBytes + " bytes (the event goes in "
                + "the query string), found " + found);
    }

    private void accept(HttpServerExchange exchange, boolean hadBody) {
        TrackedEvent event;
        try {
            event = AnalyticsQuery.parseEvent(exchange.getQueryString(), context.millisClock().getAsLong(), window);
        } catch (InvalidRequestException bad) {
            stats.reject(Rejection.INVALID);
            String reason = bad.getMessage();
            if (hadBody && reason.endsWith("found nothing")) {
                reason += " (the event goes in the query string: POST /analytics?timestamp=…&user=…&event=…; "
                        + "the request body is ignored)";
            }
            Replies.line(exchange, 400, reason);
            return;
        }
        if (context.ackOnCommit()) {
            // Dispatch first, so the exchange is suspended before the writer can complete it; the task runs on this
            // IO thread as soon as the handler returns.
            exchange.dispatch(SameThreadExecutor.INSTANCE,
                    () -> publish(exchange, event, new AnswerOnCommit(exchange)));
        } else {
            publish(exchange, event, null);
        }
    }

    private void publish(HttpServerExchange exchange, TrackedEvent event, CommitListener listener) {
        PublishGate.Refusal refusal = context.gate().publish(event, listener);
        if (refusal != null) {
            Replies.unavailable(exchange, 1, refusal.reason());
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
        public void onCommitted(boolean resend) {
            exchange.getIoThread().execute(() -> Replies.noContent(exchange));
        }

        @Override
        public void onAbandoned() {
            exchange.getIoThread().execute(() -> Replies.unavailable(exchange, 1, PublishGate.notWritten("event")));
        }

        @Override
        public void onOutcomeUnknown() {
            // 504, not 503: the gateway retries a POST only on 503, which must keep meaning "certainly not stored".
            exchange.getIoThread().execute(() -> Replies.line(exchange, 504, PublishGate.OUTCOME_UNKNOWN));
        }
    }
}
