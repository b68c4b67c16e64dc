package io.tracerboy.edge;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

/** Writes the small plain-text answers every handler gives: a status and one line, or an empty {@code 204}. */
final class Replies {
    static final String TEXT_PLAIN = "text/plain; charset=utf-8";

    private Replies() {
    }

    static void text(HttpServerExchange exchange, int status, String body) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, TEXT_PLAIN);
        exchange.getResponseSender().send(body);
    }

    /** A one-line reason, newline-terminated. */
    static void line(HttpServerExchange exchange, int status, String reason) {
        text(exchange, status, reason + "\n");
    }

    /** {@code 503} with {@code Retry-After} in seconds. */
    static void unavailable(HttpServerExchange exchange, int retryAfterSeconds, String reason) {
        exchange.getResponseHeaders().put(Headers.RETRY_AFTER, retryAfterSeconds);
        line(exchange, 503, reason);
    }

    static void noContent(HttpServerExchange exchange) {
        exchange.setStatusCode(204);
        exchange.endExchange();
    }
}
