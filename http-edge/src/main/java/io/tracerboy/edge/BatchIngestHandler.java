package io.tracerboy.edge;

import io.tracerboy.ingest.BatchParser;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.PipelineStats.Rejection;
import io.tracerboy.ingest.RequestKey;
import io.tracerboy.ingest.TrackedEvent;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;

/**
 * {@code POST /analytics/batch}: many events in one request, as NDJSON (also as {@code text/plain}, which a page sends
 * without a preflight) or a JSON array, optionally gzipped. The body is read without blocking (IO thread), then
 * decompressed and parsed on a worker thread; every limit counts decompressed bytes and reading stops at the limit. A
 * request is accepted whole or refused whole: any bad line is a {@code 400} listing the errors, and a valid batch
 * enters the ring in one claim of its slots or not at all ({@code 503}). Answers are JSON.
 */
final class BatchIngestHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(BatchIngestHandler.class);
    private static final String NDJSON = "application/x-ndjson";
    private static final String JSON_ARRAY = "application/json";
    /** NDJSON as a page sends it without a preflight: {@code sendBeacon} and {@code fetch} with a string body. */
    private static final String TEXT = "text/plain";

    private final IngestContext context;
    private final PipelineStats stats;
    private final BatchParser parser;
    private final int maxBodyBytes;
    private final IdempotencyKeys idempotency;

    BatchIngestHandler(IngestContext context, BatchParser parser, int maxBodyBytes, IdempotencyKeys idempotency) {
        this.context = context;
        this.stats = context.stats();
        this.parser = parser;
        this.maxBodyBytes = maxBodyBytes;
        this.idempotency = idempotency;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        String type = mediaType(exchange.getRequestHeaders().getFirst(Headers.CONTENT_TYPE));
        boolean ndjson = NDJSON.equals(type) || TEXT.equals(type);
        if (!ndjson && !JSON_ARRAY.equals(type)) {
            refuse(exchange, 415, Rejection.INVALID, "Content-Type: expected " + NDJSON + ", " + TEXT + " (NDJSON) or "
                    + JSON_ARRAY + ", found " + found(type));
            return;
        }
        String encoding = mediaType(exchange.getRequestHeaders().getFirst(Headers.CONTENT_ENCODING));
        boolean gzip = "gzip".equals(encoding);
        if (encoding != null && !gzip && !"identity".equals(encoding)) {
            refuse(exchange, 415, Rejection.INVALID, "Content-Encoding: expected gzip or none, found "
                    + found(encoding));
            return;
        }
        String key;
        try {
            key = IdempotencyKeys.parse(exchange.getRequestHeaders().getFirst(IdempotencyKeys.HEADER));
        } catch (InvalidRequestException invalid) {
            refuse(exchange, 400, Rejection.INVALID, invalid.getMessage());
            return;
        }
        long declaredBytes = exchange.getRequestContentLength();
        if (declaredBytes > maxBodyBytes) {
            tooLarge(exchange, "request body: expected at most " + maxBodyBytes + " bytes (MAX_BATCH_BYTES), found "
                    + declaredBytes + " bytes");
            return;
        }
        BatchParser.Format format = ndjson ? BatchParser.Format.NDJSON : BatchParser.Format.JSON_ARRAY;
        RequestBodies.read(exchange, maxBodyBytes, true, context.requestTimeoutMs(),
                // Decompressing and parsing take CPU: a worker thread, so the IO threads keep serving.
                (ex, body, bodyBytes) -> ex.dispatch(() -> acceptOrFail(ex, body, gzip, format, key)),
                (ex, found) -> tooLarge(ex, "request body: expected at most " + maxBodyBytes
                        + " bytes (MAX_BATCH_BYTES), found " + found));
    }

    /**
     * {@link #accept} on a worker thread, where an exception would leave the exchange open (Undertow answers only for
     * handlers it called itself): anything unforeseen is answered {@code 500} and logged on one line.
     */
    private void acceptOrFail(HttpServerExchange exchange, byte[] raw, boolean gzip, BatchParser.Format format,
                              String key) {
        try {
            accept(exchange, raw, gzip, format, key);
        } catch (RuntimeException unexpected) {
            StackTraceElement[] trace = unexpected.getStackTrace();
            log.error("POST /analytics/batch answered 500: {} at {}", unexpected,
                    trace.length == 0 ? "an unknown place" : trace[0]);
            if (exchange.isResponseStarted()) {
                IoUtils.safeClose(exchange.getConnection());
            } else {
                exchange.setPersistent(false);
                JsonReplies.send(exchange, 500, JsonReplies.error("internal error: the batch could not be processed "
                        + "(the server log says why)"));
            }
        }
    }

    private void accept(HttpServerExchange exchange, byte[] raw, boolean gzip, BatchParser.Format format,
                        String key) {
        BatchParser.Result result;
        byte[] body;
        try {
            body = gzip ? GzipBodies.gunzip(raw, maxBodyBytes) : raw;
            if (format == BatchParser.Format.NDJSON && ringCannotTake(exchange, body)) {
                return;
            }
            result = parser.parse(body, body.length, format, context.millisClock().getAsLong());
        } catch (BatchParser.LimitException limit) {
            tooLarge(exchange, limit.getMessage());
            return;
        } catch (InvalidRequestException invalid) {
            refuse(exchange, 400, Rejection.INVALID, invalid.getMessage());
            return;
        } catch (GzipBodies.TooLarge tooLarge) {
            tooLarge(exchange, "request body: expected at most " + maxBodyBytes
                    + " bytes after decompression (MAX_BATCH_BYTES), found more");
            return;
        }
        if (!result.valid()) {
            stats.reject(Rejection.INVALID, result.events().size() + result.errorCount());
            JsonReplies.send(exchange, 400, errors(result, format));
            return;
        }
        List<TrackedEvent> events = result.events();
        RequestKey request = null;
        if (key != null) {
            IdempotencyKeys.Decision decision = idempotency.decide(key, body, events.size());
            if (decision.replay() != null) {
                exchange.getResponseHeaders().put(IdempotencyKeys.REPLAYED, "true");
                JsonReplies.send(exchange, 200, "{\"accepted\":" + decision.replay().accepted() + (context.ackOnCommit()
                        ? ",\"duplicates\":" + decision.replay().resent() : "") + "}");
                return;
            }
            if (decision.status() == 503) {
                JsonReplies.unavailable(exchange, decision.refusal());
                return;
            }
            if (decision.refusal() != null) {
                refuse(exchange, decision.status(), Rejection.INVALID, decision.refusal());
                return;
            }
            request = decision.fresh();
        }
        RequestKey keyed = request;
        BatchAnswer answer = context.ackOnCommit() ? new BatchAnswer(exchange, events.size()) : null;
        PublishGate.Refusal refusal = context.gate().publishAll(events, answer, keyed);
        if (refusal != null) {
            JsonReplies.unavailable(exchange, refusal.reason());
        } else if (answer == null) {
            JsonReplies.send(exchange, 200, "{\"accepted\":" + events.size() + "}");
        }
        // In committed mode the exchange stays open: the last commit answers it (it was dispatched, so it waits).
    }

    /**
     * Answers {@code 503} before parsing when the ring has no room for as many events as the body has lines: parsing
     * a batch that cannot be taken would only spend the CPU the writer needs to make room (measured: under overload a
     * third of all requests were refused this way, and parsing them cost more than a tenth of a core).
     */
    private boolean ringCannotTake(HttpServerExchange exchange, byte[] body) {
        int lines = BatchParser.countLines(body, body.length);
        if (lines == 0 || lines > parser.maxEvents()) {
            return false; // nothing to take or a 413 to give: parse
        }
        PublishGate.Refusal refusal = context.gate().refusalFor(lines);
        if (refusal == null) {
            return false;
        }
        JsonReplies.unavailable(exchange, refusal.reason());
        return true;
    }

    private void tooLarge(HttpServerExchange exchange, String reason) {
        exchange.setPersistent(false);
        refuse(exchange, 413, Rejection.TOO_LARGE, reason);
    }

    private void refuse(HttpServerExchange exchange, int status, Rejection rejection, String reason) {
        stats.reject(rejection);
        JsonReplies.send(exchange, status, JsonReplies.error(reason));
    }

    private static String errors(BatchParser.Result result, BatchParser.Format format) {
        return JsonReplies.write(generator -> {
            generator.writeStartObject();
            generator.writeNumberField("invalid", result.errorCount());
            generator.writeArrayFieldStart("errors");
            for (BatchParser.EventError error : result.errors()) {
                generator.writeStartObject();
                generator.writeNumberField(format.positionName(), error.position());
                generator.writeStringField("error", error.error());
                generator.writeEndObject();
            }
            generator.writeEndArray();
            generator.writeEndObject();
        });
    }

    private static String mediaType(String header) {
        if (header == null) {
            return null;
        }
        int semicolon = header.indexOf(';');
        return (semicolon < 0 ? header : header.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
    }

    private static String found(String value) {
        return value == null ? "nothing" : "'" + value + "'";
    }
}
