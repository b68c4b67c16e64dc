package io.tracerboy.edge;

import io.tracerboy.ingest.BatchParser;
import io.tracerboy.ingest.CommitListener;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.PipelineStats.Rejection;
import io.tracerboy.ingest.RequestKey;
import io.tracerboy.ingest.TrackedEvent;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
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
    private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b};

    private final EventRing ring;
    private final PipelineStats stats;
    private final BatchParser parser;
    private final LongSupplier millisClock;
    private final ServiceState state;
    private final boolean ackOnCommit;
    private final int maxBodyBytes;
    private final long requestTimeoutMs;
    private final IdempotencyKeys idempotency;

    BatchIngestHandler(EventRing ring, PipelineStats stats, BatchParser parser, LongSupplier millisClock,
                       ServiceState state, AckMode ackMode, int maxBodyBytes, long requestTimeoutMs,
                       IdempotencyKeys idempotency) {
        this.idempotency = idempotency;
        this.ring = ring;
        this.stats = stats;
        this.parser = parser;
        this.millisClock = millisClock;
        this.state = state;
        this.ackOnCommit = ackMode == AckMode.COMMITTED;
        this.maxBodyBytes = maxBodyBytes;
        this.requestTimeoutMs = requestTimeoutMs;
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
        RequestBodies.read(exchange, maxBodyBytes, true, requestTimeoutMs,
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
            body = gzip ? gunzip(raw) : raw;
            if (format == BatchParser.Format.NDJSON && ringCannotTake(exchange, body)) {
                return;
            }
            result = parser.parse(body, body.length, format, millisClock.getAsLong());
        } catch (BatchParser.LimitException limit) {
            tooLarge(exchange, limit.getMessage());
            return;
        } catch (InvalidRequestException invalid) {
            refuse(exchange, 400, Rejection.INVALID, invalid.getMessage());
            return;
        } catch (BodyTooLarge tooLarge) {
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
                JsonReplies.send(exchange, 200, "{\"accepted\":" + decision.replay().accepted() + (ackOnCommit
                        ? ",\"duplicates\":" + decision.replay().resent() : "") + "}");
                return;
            }
            if (decision.status() == 503) {
                unavailable(exchange, decision.refusal());
                return;
            }
            if (decision.refusal() != null) {
                refuse(exchange, decision.status(), Rejection.INVALID, decision.refusal());
                return;
            }
            request = decision.fresh();
        }
        RequestKey keyed = request;
        BatchAnswer answer = ackOnCommit ? new BatchAnswer(exchange, events.size()) : null;
        ServiceState.Publish outcome = state.publish(() -> ring.tryPublishAll(events, answer, keyed));
        if (outcome == ServiceState.Publish.SHUTTING_DOWN) {
            stats.reject(Rejection.SHUTTING_DOWN, events.size());
        }
        if (outcome != ServiceState.Publish.PUBLISHED) {
            unavailable(exchange, outcome.reason());
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
        if (lines == 0 || lines > parser.maxEvents() || ring.hasRoomFor(lines)) {
            return false; // nothing to take, a 413 to give, or room enough: parse
        }
        ServiceState.Publish outcome = state.publish(() -> false);
        stats.reject(outcome == ServiceState.Publish.SHUTTING_DOWN ? Rejection.SHUTTING_DOWN : Rejection.RING_FULL,
                lines);
        unavailable(exchange, outcome.reason());
        return true;
    }

    /**
     * Decompresses at most {@code maxBodyBytes}; reading stops there, so a gzip bomb costs nothing more. Data that is
     * not gzip, or is cut short or corrupt, is an {@link InvalidRequestException} saying which.
     */
    private byte[] gunzip(byte[] raw) throws BodyTooLarge {
        boolean startsAsGzip = raw.length == 0 || raw[0] == GZIP_MAGIC[0] && (raw.length == 1
                || raw[1] == GZIP_MAGIC[1]);
        if (!startsAsGzip) {
            throw new InvalidRequestException("request body: expected gzip data, found data that does not start as "
                    + "gzip does (1f 8b)");
        }
        byte[] out = new byte[Math.min(maxBodyBytes + 1, Math.max(8_192, raw.length * 4))];
        int n = 0;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            for (int read; (read = in.read(out, n, out.length - n)) > 0; ) {
                n += read;
                if (n > maxBodyBytes) {
                    throw new BodyTooLarge();
                }
                if (n == out.length) {
                    out = Arrays.copyOf(out, Math.min(maxBodyBytes + 1, out.length * 2));
                }
            }
        } catch (EOFException cutShort) {
            throw new InvalidRequestException("request body: expected gzip data, found " + (raw.length == 0 ? "nothing"
                    : "a gzip stream cut short"));
        } catch (ZipException corrupt) {
            // zlib's own words describe the data ("invalid distance too far back", "Corrupt GZIP trailer").
            throw new InvalidRequestException("request body: expected gzip data, found corrupt gzip data"
                    + (corrupt.getMessage() == null ? "" : " (" + corrupt.getMessage() + ")"));
        } catch (IOException impossible) {
            throw new IllegalStateException(impossible); // reading from a byte array
        }
        return Arrays.copyOf(out, n);
    }

    /** The decompressed body passed {@code MAX_BATCH_BYTES}. */
    private static final class BodyTooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        BodyTooLarge() {
            super(null, null, false, false);
        }
    }

    private void tooLarge(HttpServerExchange exchange, String reason) {
        exchange.setPersistent(false);
        refuse(exchange, 413, Rejection.TOO_LARGE, reason);
    }

    private void refuse(HttpServerExchange exchange, int status, Rejection rejection, String reason) {
        stats.reject(rejection);
        JsonReplies.send(exchange, status, JsonReplies.error(reason));
    }

    private static void unavailable(HttpServerExchange exchange, String reason) {
        exchange.getResponseHeaders().put(Headers.RETRY_AFTER, 1);
        JsonReplies.send(exchange, 503, JsonReplies.error(reason));
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

    /**
     * Answers a committed-mode batch once every one of its events is settled: {@code 200} with how many were resends
     * when all committed, {@code 503} when none was written and none may have been, {@code 504} otherwise (part of it
     * may be stored: resend it only with event ids or its Idempotency-Key).
     */
    private static final class BatchAnswer implements CommitListener {
        private final HttpServerExchange exchange;
        private final int events;
        private final AtomicInteger settled = new AtomicInteger();
        private final AtomicInteger resends = new AtomicInteger();
        private final AtomicInteger notWritten = new AtomicInteger();
        private final AtomicInteger unknown = new AtomicInteger();

        BatchAnswer(HttpServerExchange exchange, int events) {
            this.exchange = exchange;
            this.events = events;
        }

        @Override
        public void onCommitted(boolean counted) {
            if (!counted) {
                resends.incrementAndGet();
            }
            settle();
        }

        @Override
        public void onAbandoned() {
            notWritten.incrementAndGet();
            settle();
        }

        @Override
        public void onOutcomeUnknown() {
            unknown.incrementAndGet();
            settle();
        }

        private void settle() {
            if (settled.incrementAndGet() != events) {
                return;
            }
            exchange.getIoThread().execute(() -> {
                if (notWritten.get() == 0 && unknown.get() == 0) {
                    JsonReplies.send(exchange, 200, "{\"accepted\":" + events + ",\"duplicates\":" + resends.get()
                            + "}");
                } else if (notWritten.get() == events) {
                    unavailable(exchange, "not written: the service stopped while the database was unreachable; "
                            + "send the batch again");
                } else {
                    JsonReplies.send(exchange, 504, JsonReplies.error("outcome unknown: the service stopped while the "
                            + "database was unreachable and part of this batch may be stored; send it again only with "
                            + "event ids or its Idempotency-Key"));
                }
            });
        }
    }
}
