package io.tracerboy.edge;

import io.tracerboy.ingest.PipelineStats;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /readyz}: {@code 200 ready} once the schema is migrated, the database answers and the writer is not
 * failing; otherwise {@code 503} with the first reason. Answers on the IO thread from state the writer and the
 * database probe keep, so a probe with a short timeout gets its answer even while the database is away.
 */
final class ReadinessHandler implements HttpHandler {
    private final ServiceState state;
    private final PipelineStats stats;
    private final BooleanSupplier databaseReachable;

    ReadinessHandler(ServiceState state, PipelineStats stats, BooleanSupplier databaseReachable) {
        this.state = state;
        this.stats = stats;
        this.databaseReachable = databaseReachable;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        String reason = notReadyReason();
        if (reason == null) {
            Replies.line(exchange, 200, "ready");
        } else {
            Replies.line(exchange, 503, "not ready: " + reason);
        }
    }

    /** Why the service is not ready, or null when it is. */
    String notReadyReason() {
        if (!state.accepting) {
            return "shutting down";
        }
        if (state.fatalError != null) {
            return state.fatalError;
        }
        if (!state.migrated) {
            return "schema not migrated yet";
        }
        if (stats.writesFailing()) {
            return "database writes failing, retrying";
        }
        if (!databaseReachable.getAsBoolean()) {
            return "database unreachable";
        }
        return null;
    }
}
