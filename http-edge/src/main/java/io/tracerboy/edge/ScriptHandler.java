package io.tracerboy.edge;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Serves the browser tracker, {@code GET}/{@code HEAD /tracerboy.js}, from the jar's {@code web/tracerboy.js}, held in
 * memory as written and gzipped. {@code /tracerboy.js} is cached for an hour and revalidated by its strong
 * {@code ETag}; {@code /tracerboy.js?v=}{@link #version()} is the same bytes cached for a year as immutable (another
 * {@code v} gets the current script with the short cache, so a pinned snippet keeps working after an upgrade). Runs on
 * the IO thread: it only copies bytes it holds.
 */
public final class ScriptHandler implements HttpHandler {
    static final String PATH = "/tracerboy.js";
    static final String CONTENT_TYPE = "application/javascript; charset=utf-8";
    /** A site's snippet names the unversioned URL: a new release reaches its pages within the hour. */
    static final String UNVERSIONED_CACHE = "public, max-age=3600";
    static final String VERSIONED_CACHE = "public, max-age=31536000, immutable";
    private static final String RESOURCE = "/web/tracerboy.js";
    private static final HttpString ALLOW_ORIGIN = new HttpString("Access-Control-Allow-Origin");
    private static final HttpString CONTENT_TYPE_OPTIONS = new HttpString("X-Content-Type-Options");
    private static final HttpString RESOURCE_POLICY = new HttpString("Cross-Origin-Resource-Policy");

    private final byte[] script;
    private final byte[] gzipped;
    private final String version;

    /** The script the jar holds. */
    public ScriptHandler() {
        this(load());
    }

    ScriptHandler(byte[] script) {
        this.script = script.clone();
        this.gzipped = gzip(script);
        this.version = HexFormat.of().formatHex(sha256(script), 0, 8);
    }

    private static byte[] load() {
        try (InputStream in = ScriptHandler.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            gzip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** 16 hex digits of the script's SHA-256: its {@code ?v=} and the root of its {@code ETag}s. */
    public String version() {
        return version;
    }

    /** The URL path that is cached for a year: {@code /tracerboy.js?v=…}. */
    public String versionedPath() {
        return PATH + "?v=" + version;
    }

    /** The script as written (the identity representation). */
    byte[] script() {
        return script.clone();
    }

    /** The bytes a client that accepts gzip receives. */
    byte[] gzipped() {
        return gzipped.clone();
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        Deque<String> v = exchange.getQueryParameters().get("v");
        boolean versioned = v != null && v.contains(version);
        boolean gzip = acceptsGzip(exchange.getRequestHeaders().get(Headers.ACCEPT_ENCODING));
        // A strong ETag names one representation: the gzipped bytes are another one.
        String etag = "\"" + version + (gzip ? "-gzip\"" : "\"");
        HeaderMap response = exchange.getResponseHeaders();
        response.put(Headers.CONTENT_TYPE, CONTENT_TYPE);
        response.put(Headers.CACHE_CONTROL, versioned ? VERSIONED_CACHE : UNVERSIONED_CACHE);
        response.put(Headers.ETAG, etag);
        response.put(Headers.VARY, "Accept-Encoding");
        response.put(CONTENT_TYPE_OPTIONS, "nosniff");
        // Lets a site load it with crossorigin="anonymous" and an integrity hash, or embed it under COEP.
        response.put(ALLOW_ORIGIN, "*");
        response.put(RESOURCE_POLICY, "cross-origin");
        if (matches(exchange.getRequestHeaders().get(Headers.IF_NONE_MATCH), etag)) {
            exchange.setStatusCode(304);
            exchange.endExchange();
            return;
        }
        byte[] body = gzip ? gzipped : script;
        if (gzip) {
            response.put(Headers.CONTENT_ENCODING, "gzip");
        }
        response.put(Headers.CONTENT_LENGTH, body.length);
        exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }

    /** {@code Accept-Encoding} lists gzip without {@code q=0}, or else {@code *} without it. */
    static boolean acceptsGzip(HeaderValues acceptEncoding) {
        boolean anyCoding = false;
        if (acceptEncoding == null) {
            return false;
        }
        for (String header : acceptEncoding) {
            for (String coding : header.split(",")) {
                String[] parts = coding.split(";");
                String name = parts[0].trim().toLowerCase(Locale.ROOT);
                if (name.equals("gzip") || name.equals("x-gzip")) {
                    return !refused(parts);
                }
                anyCoding |= name.equals("*") && !refused(parts);
            }
        }
        return anyCoding;
    }

    private static boolean refused(String[] coding) {
        for (int i = 1; i < coding.length; i++) {
            String parameter = coding[i].trim().toLowerCase(Locale.ROOT).replace(" ", "");
            if (parameter.matches("q=0(\\.0{0,3})?")) {
                return true;
            }
        }
        return false;
    }

    /** {@code If-None-Match} names this representation: weak comparison, as RFC 9110 asks for it. */
    private static boolean matches(HeaderValues ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String header : ifNoneMatch) {
            for (String tag : header.split(",")) {
                String candidate = tag.trim();
                if (candidate.startsWith("W/")) {
                    candidate = candidate.substring(2);
                }
                if (candidate.equals("*") || candidate.equals(etag)) {
                    return true;
                }
            }
        }
        return false;
    }
}
