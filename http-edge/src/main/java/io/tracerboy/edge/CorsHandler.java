package io.tracerboy.edge;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * CORS for one ingest endpoint, wrapped around its handler and routed for both its {@code POST} and {@code OPTIONS}:
 * answers the preflight, adds {@code Access-Control-Allow-Origin} to the answers of an allowed origin, and refuses a
 * page of another origin with {@code 403} before the endpoint sees the request. A request without {@code Origin}
 * (curl, a server) or from the server's own origin passes untouched. Runs on the IO thread and never blocks.
 */
public final class CorsHandler implements HttpHandler {
    static final HttpString ALLOW_ORIGIN = new HttpString("Access-Control-Allow-Origin");
    static final HttpString ALLOW_METHODS = new HttpString("Access-Control-Allow-Methods");
    static final HttpString ALLOW_HEADERS = new HttpString("Access-Control-Allow-Headers");
    static final HttpString EXPOSE_HEADERS = new HttpString("Access-Control-Expose-Headers");
    static final HttpString MAX_AGE = new HttpString("Access-Control-Max-Age");
    static final HttpString REQUEST_METHOD = new HttpString("Access-Control-Request-Method");
    static final HttpString REQUEST_HEADERS = new HttpString("Access-Control-Request-Headers");
    static final String ALLOWED_HEADERS = "Content-Type, Content-Encoding, Idempotency-Key";
    /** Chromium caps a cached preflight at two hours (Firefox at a day): asking for more buys nothing. */
    static final long PREFLIGHT_MAX_AGE_SECONDS = 7_200;

    private static final Set<String> ALLOWED_HEADER_NAMES = Arrays.stream(ALLOWED_HEADERS.split(", "))
            .map(name -> name.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());

    /** How a refusal of the wrapped endpoint is written: as the endpoint writes its own. */
    private interface Refusal {
        void send(HttpServerExchange exchange, int status, String reason);
    }

    private final AllowedOrigins origins;
    private final HttpHandler next;
    private final Refusal refusal;

    private CorsHandler(AllowedOrigins origins, HttpHandler next, Refusal refusal) {
        this.origins = origins;
        this.next = next;
        this.refusal = refusal;
    }

    /** For an endpoint that refuses in one line of text ({@code POST /analytics}). */
    public static CorsHandler text(AllowedOrigins origins, HttpHandler next) {
        return new CorsHandler(origins, next, Replies::line);
    }

    /** For an endpoint that refuses in JSON, {@code {"error":"…"}} ({@code POST /analytics/batch}). */
    public static CorsHandler json(AllowedOrigins origins, HttpHandler next) {
        return new CorsHandler(origins, next, (exchange, status, reason) ->
                JsonReplies.send(exchange, status, JsonReplies.error(reason)));
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        HeaderMap request = exchange.getRequestHeaders();
        String origin = request.getFirst(Headers.ORIGIN);
        if (exchange.getRequestMethod().equals(Methods.OPTIONS)) {
            preflight(exchange, origin);
            return;
        }
        if (origin == null || sameOrigin(exchange, origin)) {
            next.handleRequest(exchange);
            return;
        }
        HeaderMap response = exchange.getResponseHeaders();
        allowOrigin(response, origin);
        if (!origins.allows(origin)) {
            // Readable by the page (it carries Allow-Origin), so the tracker can drop its events and say why.
            refusal.send(exchange, 403, refusedOrigin(origin));
            return;
        }
        response.put(EXPOSE_HEADERS, Headers.RETRY_AFTER_STRING);
        next.handleRequest(exchange);
    }

    private void preflight(HttpServerExchange exchange, String origin) {
        HeaderMap response = exchange.getResponseHeaders();
        String method = exchange.getRequestHeaders().getFirst(REQUEST_METHOD);
        if (origin == null || method == null) {
            if (!response.contains(Headers.ALLOW)) {
                response.put(Headers.ALLOW, "OPTIONS, POST"); // unless the routes said (HttpEdge)
            }
            Replies.noContent(exchange);
            return;
        }
        if (!origins.isAny()) {
            response.put(Headers.VARY, "Origin");
        }
        if (!origins.allows(origin)) {
            Replies.line(exchange, 403, refusedOrigin(origin));
            return;
        }
        if (!method.equals("POST")) {
            Replies.line(exchange, 403, "Access-Control-Request-Method: expected POST, found '" + method + "'");
            return;
        }
        String headers = exchange.getRequestHeaders().getFirst(REQUEST_HEADERS);
        if (headers != null) {
            for (String name : headers.split(",")) {
                String trimmed = name.trim().toLowerCase(Locale.ROOT);
                if (!trimmed.isEmpty() && !ALLOWED_HEADER_NAMES.contains(trimmed)) {
                    Replies.line(exchange, 403, "Access-Control-Request-Headers: expected some of " + ALLOWED_HEADERS
                            + ", found '" + name.trim() + "'");
                    return;
                }
            }
        }
        allowOrigin(response, origin);
        response.put(ALLOW_METHODS, "POST");
        response.put(ALLOW_HEADERS, ALLOWED_HEADERS);
        response.put(MAX_AGE, PREFLIGHT_MAX_AGE_SECONDS);
        Replies.noContent(exchange);
    }

    /** {@code *} when any origin may send, else the origin itself, with {@code Vary} so caches keep them apart. */
    private void allowOrigin(HeaderMap response, String origin) {
        if (origins.isAny()) {
            response.put(ALLOW_ORIGIN, "*");
        } else {
            response.put(ALLOW_ORIGIN, origin);
            response.put(Headers.VARY, "Origin");
        }
    }

    /** A page served by this very host: not a cross-origin request, whatever the list says. */
    private static boolean sameOrigin(HttpServerExchange exchange, String origin) {
        String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
        int authority = origin.indexOf("://");
        return host != null && authority > 0 && origin.substring(authority + 3).equalsIgnoreCase(host);
    }

    private static String refusedOrigin(String origin) {
        return "Origin: expected an origin in CORS_ALLOWED_ORIGINS, found '" + origin + "'";
    }
}
