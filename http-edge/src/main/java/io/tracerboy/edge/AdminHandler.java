package io.tracerboy.edge;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import io.prometheus.metrics.core.metrics.Counter;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code /admin/settings}: {@code GET} (and {@code HEAD}) reads the live settings, {@code POST} (a JSON object of name
 * to value) changes them. Routed only when an admin token is configured (otherwise a {@code 404} as for any unknown
 * path), and only for those methods (otherwise a {@code 405} from {@link Routes}). Every request must
 * carry it as {@code Authorization: Bearer <token>}; the comparison takes the same time wherever the tokens differ
 * (SHA-256 digests compared with {@link MessageDigest#isEqual}). Any query string is refused ({@code 400}) before the
 * token is looked at: whatever name or encoding a token in the URL had, URLs end up in logs and browser history, and
 * nothing here takes parameters. There are no cookies, and a change needs a JSON body and a bearer header, neither of
 * which another site's page can send without the browser asking this server first (no CORS is answered), so the API
 * cannot be driven across sites (CSRF). Every other refusal is {@code 401}; all are counted in {@code /metrics} by
 * reason, and none logs or echoes the token.
 */
final class AdminHandler implements HttpHandler {
    private static final int MAX_BODY_BYTES = 65_536;

    private final byte[] tokenDigest;
    private final LiveSettings settings;
    private final Counter refused;
    private final Supplier<Map<String, Object>> extra;

    /** {@code extra}: values shown with the settings, read-only (e.g. the linger the adaptive policy chose). */
    AdminHandler(String token, LiveSettings settings, Counter refused, Supplier<Map<String, Object>> extra) {
        this.tokenDigest = sha256(token);
        this.settings = settings;
        this.refused = refused;
        this.extra = extra;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        String query = exchange.getQueryString();
        if (!query.isEmpty()) {
            refused.labelValues("query_string").inc();
            JsonReplies.send(exchange, 400, JsonReplies.error("admin: expected no query string (the token belongs in "
                    + "an Authorization: Bearer header, never in the URL), found a query string of " + query.length()
                    + " characters"));
            return;
        }
        String refusal = refusal(exchange);
        if (refusal != null) {
            refused.labelValues(refusal).inc();
            exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer realm=\"tracerboy admin\"");
            JsonReplies.send(exchange, 401, JsonReplies.error(switch (refusal) {
                case "missing" -> "admin: expected an Authorization: Bearer header, found none";
                case "malformed" -> "admin: expected an Authorization: Bearer header, found another scheme";
                case "empty" -> "admin: expected a bearer token, found an empty one";
                default -> "admin: the bearer token is not this service's admin token";
            }));
            return;
        }
        if (!Methods.POST.equals(exchange.getRequestMethod())) {
            JsonReplies.send(exchange, 200, describe(Map.of())); // GET or HEAD
        } else {
            String type = exchange.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
            if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
                JsonReplies.send(exchange, 415, JsonReplies.error("Content-Type: expected application/json, found "
                        + (type == null ? "none" : "'" + type + "'")));
                return;
            }
            RequestBodies.read(exchange, MAX_BODY_BYTES, true, 10_000,
                    (ex, body, bytes) -> change(ex, body),
                    (ex, found) -> JsonReplies.send(ex, 413, JsonReplies.error("request body: expected at most "
                            + MAX_BODY_BYTES + " bytes, found " + found)));
        }
    }

    /** Why the request is refused (the metric's label), or null when it carries the right token. */
    private String refusal(HttpServerExchange exchange) {
        String header = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (header == null) {
            return "missing";
        }
        if (!header.regionMatches(true, 0, "Bearer", 0, 6) || header.length() > 6 && header.charAt(6) != ' ') {
            return "malformed";
        }
        String token = header.substring(6).strip();
        if (token.isEmpty()) {
            return "empty";
        }
        return MessageDigest.isEqual(sha256(token), tokenDigest) ? null : "wrong";
    }

    private void change(HttpServerExchange exchange, byte[] body) {
        try {
            JsonReplies.send(exchange, 200, describe(settings.apply(settingsIn(body))));
        } catch (ConfigException e) {
            JsonReplies.send(exchange, 400, JsonReplies.error(e.getMessage()));
        }
    }

    /**
     * The body's names and values, each value as its JSON text so that the setting parses it exactly as it would the
     * same text at startup. Refuses, in its own words (never Jackson's), anything but one flat object with each name
     * once.
     */
    static Map<String, String> settingsIn(byte[] body) {
        String expected = "request body: expected a JSON object of setting names to values, found ";
        Map<String, String> raw = new LinkedHashMap<>();
        try (JsonParser parser = JsonReplies.JSON.createParser(body)) {
            try {
                JsonToken first = parser.nextToken();
                if (first != JsonToken.START_OBJECT) {
                    throw new ConfigException(expected + (first == null ? "nothing" : describe(first)));
                }
                for (JsonToken token = parser.nextToken(); token == JsonToken.FIELD_NAME; token = parser.nextToken()) {
                    String name = parser.currentName();
                    JsonToken value = parser.nextToken();
                    if (!value.isScalarValue() || value == JsonToken.VALUE_NULL) {
                        throw new ConfigException(name + ": expected a string or an integer, found " + describe(value));
                    }
                    if (raw.put(name, parser.getText()) != null) {
                        throw new ConfigException(name + ": expected one value, found the field repeated");
                    }
                }
                if (parser.nextToken() != null) {
                    throw new ConfigException("request body: expected one JSON object of setting names to values, "
                            + "found more after it");
                }
            } catch (JsonEOFException e) {
                throw new ConfigException(expected + "the body ending inside it");
            } catch (JsonProcessingException e) {
                JsonLocation at = parser.currentLocation();
                throw new ConfigException(expected + "invalid JSON (reading stopped at line " + at.getLineNr()
                        + ", column " + at.getColumnNr() + ")");
            }
        } catch (IOException e) {
            throw new ConfigException(expected + "an unreadable body");
        }
        return raw;
    }

    private static String describe(JsonToken token) {
        return switch (token) {
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            default -> token.asString() == null ? token.name().toLowerCase(Locale.ROOT) : token.asString();
        };
    }

    /** {@code {"settings":{…},"changes":n,…extra,"changed":{…}}}. */
    private String describe(Map<String, String> changed) {
        return JsonReplies.write(generator -> {
            generator.writeStartObject();
            generator.writeObjectFieldStart("settings");
            for (Map.Entry<String, String> setting : settings.current().entrySet()) {
                generator.writeStringField(setting.getKey(), setting.getValue());
            }
            generator.writeEndObject();
            generator.writeNumberField("changes", settings.changes());
            for (Map.Entry<String, Object> value : extra.get().entrySet()) {
                generator.writeFieldName(value.getKey());
                generator.writeNumber(((Number) value.getValue()).longValue());
            }
            generator.writeObjectFieldStart("changed");
            for (Map.Entry<String, String> setting : changed.entrySet()) {
                generator.writeStringField(setting.getKey(), setting.getValue());
            }
            generator.writeEndObject();
            generator.writeEndObject();
        });
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
