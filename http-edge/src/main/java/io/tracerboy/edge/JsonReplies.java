package io.tracerboy.edge;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/** JSON answers (batch ingest, admin API, status), written with Jackson's generator so every string is escaped. */
final class JsonReplies {
    static final JsonFactory JSON = JsonFactory.builder().build();

    /** Writes one JSON value. */
    interface Writing {
        void write(JsonGenerator generator) throws IOException;
    }

    private JsonReplies() {
    }

    static String write(Writing writing) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = JSON.createGenerator(out)) {
            writing.write(generator);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** {@code {"error":reason}}. */
    static String error(String reason) {
        return write(generator -> {
            generator.writeStartObject();
            generator.writeStringField("error", reason);
            generator.writeEndObject();
        });
    }

    /** Answers {@code json} and a newline, as {@code application/json}. */
    static void send(HttpServerExchange exchange, int status, String json) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(json + "\n");
    }

    /** Answers {@code 503} with {@code Retry-After: 1} and {@code {"error": reason}}: nothing was stored, resend. */
    static void unavailable(HttpServerExchange exchange, String reason) {
        exchange.getResponseHeaders().put(Headers.RETRY_AFTER, 1);
        send(exchange, 503, error(reason));
    }
}
