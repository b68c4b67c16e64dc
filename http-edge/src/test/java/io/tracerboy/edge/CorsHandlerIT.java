package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.Handlers;
import io.undertow.server.HttpHandler;
import io.undertow.util.Methods;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * CORS on the ingest endpoints, wired as the server is to wire it: one {@link CorsHandler} per endpoint, routed for its
 * {@code POST} and {@code OPTIONS}, around a stand-in endpoint that counts what reaches it.
 */
class CorsHandlerIT {
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String SHOP = "https://shop.example";
    private static final String EVIL = "https://evil.example";

    private final AtomicInteger reached = new AtomicInteger();

    private HandlerServer serve(AllowedOrigins origins) {
        HttpHandler endpoint = exchange -> {
            reached.incrementAndGet();
            JsonReplies.send(exchange, 200, "{\"accepted\":1}");
        };
        CorsHandler query = CorsHandler.text(origins, endpoint);
        CorsHandler batch = CorsHandler.json(origins, endpoint);
        return new HandlerServer(Handlers.routing()
                .post("/analytics", query)
                .add(Methods.OPTIONS, "/analytics", query)
                .post("/analytics/batch", batch)
                .add(Methods.OPTIONS, "/analytics/batch", batch));
    }

    private static HttpResponse<String> send(HandlerServer server, String method, String path, String... headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(10))
                .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("{}\n")
                        : HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    private static HttpResponse<String> preflight(HandlerServer server, String path, String origin, String method,
                                                  String headers) throws Exception {
        return send(server, "OPTIONS", path, "Origin", origin, "Access-Control-Request-Method", method,
                "Access-Control-Request-Headers", headers);
    }

    @Test
    void thePreflightOfAnAllowedOriginNamesTheMethodTheHeadersAndHowLongToKeepIt() throws Exception {
        AllowedOrigins origins = AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", SHOP + ",https://www.shop.example");
        try (HandlerServer server = serve(origins)) {
            for (String path : new String[] {"/analytics", "/analytics/batch"}) {
                HttpResponse<String> response = preflight(server, path, SHOP, "POST",
                        "content-type,content-encoding,idempotency-key");
                assertThat(response.statusCode()).as(path).isEqualTo(204);
                assertThat(header(response, "Access-Control-Allow-Origin")).isEqualTo(SHOP);
                assertThat(header(response, "Vary")).isEqualTo("Origin");
                assertThat(header(response, "Access-Control-Allow-Methods")).isEqualTo("POST");
                assertThat(header(response, "Access-Control-Allow-Headers"))
                        .isEqualTo("Content-Type, Content-Encoding, Idempotency-Key");
                assertThat(header(response, "Access-Control-Max-Age")).isEqualTo("7200");
            }
            assertThat(header(preflight(server, "/analytics/batch", "https://www.shop.example", "POST", "Content-Type"),
                    "Access-Control-Allow-Origin")).isEqualTo("https://www.shop.example");
            assertThat(reached).hasValue(0);
        }
    }

    @Test
    void thePreflightOfAnotherOriginIsRefusedWith403AndAReason() throws Exception {
        try (HandlerServer server = serve(AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", SHOP))) {
            HttpResponse<String> response = preflight(server, "/analytics/batch", EVIL, "POST", "content-type");
            assertThat(response.statusCode()).isEqualTo(403);
            assertThat(response.body())
                    .isEqualTo("Origin: expected an origin in CORS_ALLOWED_ORIGINS, found 'https://evil.example'\n");
            assertThat(header(response, "Access-Control-Allow-Origin")).isNull();
            assertThat(header(response, "Vary")).isEqualTo("Origin");

            HttpResponse<String> put = preflight(server, "/analytics", SHOP, "PUT", "content-type");
            assertThat(put.statusCode()).isEqualTo(403);
            assertThat(put.body()).isEqualTo("Access-Control-Request-Method: expected POST, found 'PUT'\n");
            HttpResponse<String> custom = preflight(server, "/analytics/batch", SHOP, "POST", "content-type, x-debug");
            assertThat(custom.statusCode()).isEqualTo(403);
            assertThat(custom.body()).isEqualTo("Access-Control-Request-Headers: expected some of Content-Type, "
                    + "Content-Encoding, Idempotency-Key, found 'x-debug'\n");
            assertThat(header(custom, "Access-Control-Allow-Origin")).isNull();
            assertThat(reached).hasValue(0);
        }
    }

    @Test
    void anOptionsRequestThatIsNoPreflightIsAnsweredWithTheMethodsAllowed() throws Exception {
        try (HandlerServer server = serve(AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", SHOP))) {
            HttpResponse<String> response = send(server, "OPTIONS", "/analytics/batch");
            assertThat(response.statusCode()).isEqualTo(204);
            assertThat(header(response, "Allow")).isEqualTo("OPTIONS, POST");
            assertThat(header(response, "Access-Control-Allow-Origin")).isNull();
        }
    }

    @Test
    void aPostFromAnAllowedOriginReachesTheEndpointAndItsAnswerIsReadableWithRetryAfter() throws Exception {
        try (HandlerServer server = serve(AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", SHOP))) {
            HttpResponse<String> response = send(server, "POST", "/analytics/batch", "Origin", SHOP,
                    "Content-Type", "text/plain;charset=UTF-8");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("{\"accepted\":1}\n");
            assertThat(header(response, "Access-Control-Allow-Origin")).isEqualTo(SHOP);
            assertThat(header(response, "Vary")).isEqualTo("Origin");
            assertThat(header(response, "Access-Control-Expose-Headers")).isEqualTo("Retry-After");
            assertThat(reached).hasValue(1);
        }
    }

    @Test
    void aPostFromAnotherOriginIsRefusedBeforeTheEndpointInTheEndpointsOwnFormat() throws Exception {
        try (HandlerServer server = serve(AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", SHOP))) {
            HttpResponse<String> batch = send(server, "POST", "/analytics/batch", "Origin", EVIL,
                    "Content-Type", "text/plain;charset=UTF-8");
            assertThat(batch.statusCode()).isEqualTo(403);
            assertThat(batch.body()).isEqualTo("{\"error\":\"Origin: expected an origin in CORS_ALLOWED_ORIGINS, "
                    + "found 'https://evil.example'\"}\n");
            assertThat(header(batch, "Access-Control-Allow-Origin")).as("so the page can read why").isEqualTo(EVIL);
            assertThat(header(batch, "Access-Control-Expose-Headers")).isNull();

            HttpResponse<String> query = send(server, "POST", "/analytics?user=a&event=click", "Origin", "null");
            assertThat(query.statusCode()).isEqualTo(403);
            assertThat(query.body()).isEqualTo("Origin: expected an origin in CORS_ALLOWED_ORIGINS, found 'null'\n");
            assertThat(reached).hasValue(0);
        }
    }

    @Test
    void aPostWithoutOriginOrFromTheServersOwnOriginPassesWithoutCorsHeaders() throws Exception {
        try (HandlerServer server = serve(AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", SHOP))) {
            HttpResponse<String> curl = send(server, "POST", "/analytics/batch");
            assertThat(curl.statusCode()).isEqualTo(200);
            assertThat(header(curl, "Access-Control-Allow-Origin")).isNull();
            assertThat(header(curl, "Vary")).isNull();

            HttpResponse<String> own = send(server, "POST", "/analytics/batch", "Origin",
                    "http://127.0.0.1:" + server.port());
            assertThat(own.statusCode()).isEqualTo(200);
            assertThat(header(own, "Access-Control-Allow-Origin")).isNull();
            assertThat(reached).hasValue(2);
        }
    }

    @Test
    void withAStarEveryOriginIsAnsweredWithAStarAndNoVary() throws Exception {
        try (HandlerServer server = serve(AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", "*"))) {
            HttpResponse<String> preflight = preflight(server, "/analytics/batch", EVIL, "POST", "content-type");
            assertThat(preflight.statusCode()).isEqualTo(204);
            assertThat(header(preflight, "Access-Control-Allow-Origin")).isEqualTo("*");
            assertThat(header(preflight, "Vary")).isNull();

            HttpResponse<String> post = send(server, "POST", "/analytics/batch", "Origin", "null");
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(header(post, "Access-Control-Allow-Origin")).isEqualTo("*");
            assertThat(header(post, "Access-Control-Expose-Headers")).isEqualTo("Retry-After");
            assertThat(reached).hasValue(1);
        }
    }
}
