package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.Handlers;
import io.undertow.util.Methods;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code GET}/{@code HEAD /tracerboy.js} over HTTP: type, caching, validators, versions and gzip. */
class ScriptHandlerIT {
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ScriptHandler script = new ScriptHandler();
    private static HandlerServer server;

    @BeforeAll
    static void start() {
        server = new HandlerServer(Handlers.routing()
                .get(ScriptHandler.PATH, script)
                .add(Methods.HEAD, ScriptHandler.PATH, script));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<byte[]> get(String method, String pathAndQuery, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri(pathAndQuery))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    @Test
    void servesTheScriptAsJavaScriptCachedForAnHourWithAStrongEtag() throws Exception {
        HttpResponse<byte[]> response = get("GET", "/tracerboy.js");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(script.script());
        assertThat(header(response, "Content-Type")).isEqualTo("application/javascript; charset=utf-8");
        assertThat(header(response, "Cache-Control")).isEqualTo("public, max-age=3600");
        assertThat(header(response, "ETag")).isEqualTo("\"" + script.version() + "\"");
        assertThat(header(response, "Vary")).isEqualTo("Accept-Encoding");
        assertThat(header(response, "X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(header(response, "Access-Control-Allow-Origin")).isEqualTo("*");
        assertThat(header(response, "Cross-Origin-Resource-Policy")).isEqualTo("cross-origin");
        assertThat(header(response, "Content-Encoding")).isNull();
    }

    @Test
    void sendsTheGzippedBytesUnderTheirOwnEtagToABrowserThatAcceptsGzip() throws Exception {
        HttpResponse<byte[]> response = get("GET", "/tracerboy.js", "Accept-Encoding", "gzip, deflate, br, zstd");
        assertThat(header(response, "Content-Encoding")).isEqualTo("gzip");
        assertThat(header(response, "ETag")).isEqualTo("\"" + script.version() + "-gzip\"");
        assertThat(response.body()).isEqualTo(script.gzipped()).hasSizeLessThanOrEqualTo(2_048);
        assertThat(header(response, "Content-Length")).isEqualTo(String.valueOf(response.body().length));
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(script.script());
        }
    }

    @Test
    void gzipWithQZeroOrOnlyOtherCodingsGetsTheScriptAsWritten() throws Exception {
        for (String acceptEncoding : new String[] {"gzip;q=0, br", "br", "identity", "gzip; q=0.000, *"}) {
            HttpResponse<byte[]> response = get("GET", "/tracerboy.js", "Accept-Encoding", acceptEncoding);
            assertThat(header(response, "Content-Encoding")).as(acceptEncoding).isNull();
            assertThat(response.body()).as(acceptEncoding).isEqualTo(script.script());
        }
        assertThat(header(get("GET", "/tracerboy.js", "Accept-Encoding", "*"), "Content-Encoding")).isEqualTo("gzip");
    }

    @Test
    void answers304WithNoBodyWhenIfNoneMatchNamesTheRepresentation() throws Exception {
        String etag = "\"" + script.version() + "\"";
        for (String ifNoneMatch : new String[] {etag, "W/" + etag, "\"other\", " + etag, "*"}) {
            HttpResponse<byte[]> response = get("GET", "/tracerboy.js", "If-None-Match", ifNoneMatch);
            assertThat(response.statusCode()).as(ifNoneMatch).isEqualTo(304);
            assertThat(response.body()).isEmpty();
            assertThat(header(response, "ETag")).isEqualTo(etag);
            assertThat(header(response, "Cache-Control")).isEqualTo("public, max-age=3600");
        }
        assertThat(get("GET", "/tracerboy.js", "If-None-Match", "\"" + script.version() + "-gzip\"").statusCode())
                .as("the gzip representation's tag does not validate the identity one").isEqualTo(200);
        assertThat(get("GET", "/tracerboy.js", "If-None-Match", "\"0000000000000000\"").statusCode()).isEqualTo(200);
    }

    @Test
    void theVersionedUrlIsImmutableForAYearAndAnOldVersionGetsTheCurrentScriptBriefly() throws Exception {
        HttpResponse<byte[]> pinned = get("GET", script.versionedPath());
        assertThat(pinned.statusCode()).isEqualTo(200);
        assertThat(pinned.body()).isEqualTo(script.script());
        assertThat(header(pinned, "Cache-Control")).isEqualTo("public, max-age=31536000, immutable");

        HttpResponse<byte[]> old = get("GET", "/tracerboy.js?v=0123456789abcdef");
        assertThat(old.statusCode()).isEqualTo(200);
        assertThat(old.body()).isEqualTo(script.script());
        assertThat(header(old, "Cache-Control")).isEqualTo("public, max-age=3600");
    }

    @Test
    void headAnswersTheSameHeadersWithoutTheBody() throws Exception {
        HttpResponse<byte[]> response = get("HEAD", "/tracerboy.js");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEmpty();
        assertThat(header(response, "Content-Length")).isEqualTo(String.valueOf(script.script().length));
        assertThat(header(response, "ETag")).isEqualTo("\"" + script.version() + "\"");
    }
}
