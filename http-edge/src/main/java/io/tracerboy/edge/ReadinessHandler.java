package io.tracerboy.edge;

import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.storage.Database;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/**
 * {@code GET /readyz}: {@code 200 ready} once the schema is migrated, the database answers and the writer is not
 * failing; otherwise {@code 503} with the first reason. Runs on a worker thread (it opens a connection).
 */
final class ReadinessHandler implements HttpHandler {
    private final ServiceState state;
    private final PipelineStats stats;
    private final Database database;

    ReadinessHandler(ServiceState state, PipelineStats stats, Database database) {
        this.state = state;
        this.stats = stats;
        this.database = database;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (exchange.isInIoThread()) {
            exchange.dispatch(this);
            return;
        }
        String reason = notReadyReason();
        if (reason == null) {
            Replies.line(exchange, 200, "ready");
        } else {
            Replies.line(exchange, 503, "not ready: " + reason);
        }
    }

    private String notReadyReason() {
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
        if (!database.reachable()) {
            return "database unreachable";
        }
        return null;
    }
}
