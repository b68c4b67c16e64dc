package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.awaitRowsWritten;
import static io.tracerboy.edge.TestServers.http;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CORS as the real server wires it ({@code CORS_ALLOWED_ORIGINS}): the preflight and the headers of both ingest
 * endpoints, whatever they answer; another origin refused when the list is narrowed; no CORS anywhere else; and the
 * {@code text/plain} batch a page sends without a preflight, counted.
 */
class CorsIT {
    private static final String SHOP = "https://shop.example";
    private static final String EVIL = "https://evil.example";
    private static final String TOKEN = "cors-test-admin-token";
    private static final long NOW_MS = System.currentTimeMillis();
    private static TestDatabase database;
    /** {@code CORS_ALLOWED_ORIGINS} at its default, {@code *}, with the admin API on. */
    private static TracerboyServer open;
    /** {@code CORS_ALLOWED_ORIGINS=https://shop.example}. */
    private static TracerboyServer narrowed;

    @BeforeAll
    static void start() throws Exception {
        database = TestDatabase.create();
        open = startServer(database.url(), Map.of("FLUSH_INTERVAL_MS", "5", "ADMIN_TOKEN", TOKEN));
        narrowed = startServer(database.url(), Map.of("FLUSH_INTERVAL_MS", "5", "CORS_ALLOWED_ORIGINS", SHOP));
        assertThat(open.awaitReady(60_000)).isTrue();
        assertThat(narrowed.awaitReady(60_000)).isTrue();
    }

    @AfterAll
    static void stop() throws Exception {
        narrowed.close();
        open.close();
        database.close();
    }

    /** A request with a body (null: none) and headers as name, value pairs. */
    private static HttpResponse<String> request(TracerboyServer server, String method, String pathAndQuery,
                                                String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + pathAndQuery)).timeout(Duration.ofSeconds(30)).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> preflight(TracerboyServer server, String path, String origin)
            throws Exception {
        return request(server, "OPTIONS", path, null, "Origin", origin, "Access-Control-Request-Method", "POST",
                "Access-Control-Request-Headers", "content-type");
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    /** Every {@code Access-Control-*} header of the answer, by name. */
    private static List<String> corsHeaders(HttpResponse<?> response) {
        return response.headers().map().keySet().stream()
                .filter(name -> name.toLowerCase(Locale.ROOT).startsWith("access-control-")).toList();
    }

    private static String line(long timestampMs, String user, String event, String id) {
        return "{\"timestamp\":" + timestampMs + ",\"user\":\"" + user + "\",\"event\":\"" + event + "\",\"id\":\""
                + id + "\"}\n";
    }

    @Test
    void bothIngestEndpointsAnswerThePreflightOfAnyOriginWithTheMethodTheHeadersAndHowLongToKeepIt()
            throws Exception {
        long acceptedBefore = open.stats().accepted();
        for (String path : List.of("/analytics", "/analytics/batch")) {
            HttpResponse<String> response = preflight(open, path, SHOP);
            assertThat(response.statusCode()).as(path).isEqualTo(204);
            assertThat(header(response, "Access-Control-Allow-Origin")).as(path).isEqualTo("*");
            assertThat(header(response, "Access-Control-Allow-Methods")).as(path).isEqualTo("POST");
            assertThat(header(response, "Access-Control-Allow-Headers")).as(path)
                    .isEqualTo("Content-Type, Content-Encoding, Idempotency-Key");
            assertThat(header(response, "Access-Control-Max-Age")).as(path).isEqualTo("7200");
            assertThat(header(response, "Vary")).as("with *, nothing varies by origin").isNull();
        }
        // An OPTIONS that is no preflight lists what the path answers, from the same routes as every 405.
        HttpResponse<String> query = request(open, "OPTIONS", "/analytics", null);
        assertThat(query.statusCode()).isEqualTo(204);
        assertThat(header(query, "Allow")).isEqualTo("GET, HEAD, OPTIONS, POST");
        assertThat(corsHeaders(query)).isEmpty();
        assertThat(open.stats().accepted()).as("a preflight publishes nothing").isEqualTo(acceptedBefore);
        assertThat(header(request(open, "OPTIONS", "/analytics/batch", null), "Allow")).isEqualTo("OPTIONS, POST");
    }

    @Test
    void everyAnswerOfTheIngestEndpointsToAPageIsReadableByItWithItsRetryAfter() throws Exception {
        HttpResponse<String> accepted = request(open, "POST", "/analytics?timestamp=" + NOW_MS
                + "&user=cors-a&event=click", null, "Origin", SHOP);
        HttpResponse<String> batch = request(open, "POST", "/analytics/batch", line(NOW_MS, "cors-b", "impression",
                "cors-b-1"), "Origin", SHOP, "Content-Type", "application/x-ndjson");
        HttpResponse<String> invalid = request(open, "POST", "/analytics?timestamp=" + NOW_MS
                + "&user=cors-c&event=foo", null, "Origin", SHOP);
        HttpResponse<String> invalidBatch = request(open, "POST", "/analytics/batch", line(NOW_MS, "cors-d", "foo",
                "cors-d-1"), "Origin", SHOP, "Content-Type", "application/x-ndjson");
        assertThat(List.of(accepted.statusCode(), batch.statusCode(), invalid.statusCode(),
                invalidBatch.statusCode())).containsExactly(204, 200, 400, 400);
        assertThat(batch.body()).isEqualTo("{\"accepted\":1}\n");
        assertThat(invalid.body()).isEqualTo("event: expected click or impression, found 'foo'\n");
        assertThat(invalidBatch.body()).isEqualTo("{\"invalid\":1,\"errors\":[{\"line\":1,\"error\":\"event: "
                + "expected click or impression, found 'foo'\"}]}\n");
        for (HttpResponse<String> response : List.of(accepted, batch, invalid, invalidBatch)) {
            assertThat(header(response, "Access-Control-Allow-Origin")).as(response.toString()).isEqualTo("*");
            assertThat(header(response, "Access-Control-Expose-Headers")).as(response.toString())
                    .isEqualTo("Retry-After");
        }

        try (TracerboyServer stopping = startServer(database.url(), Map.of())) {
            assertThat(stopping.awaitReady(60_000)).isTrue();
            stopping.stopAccepting();
            HttpResponse<String> query = request(stopping, "POST", "/analytics?timestamp=" + NOW_MS
                    + "&user=cors-e&event=click", null, "Origin", SHOP);
            HttpResponse<String> refusedBatch = request(stopping, "POST", "/analytics/batch", line(NOW_MS, "cors-e",
                    "click", "cors-e-1"), "Origin", SHOP, "Content-Type", "text/plain;charset=UTF-8");
            for (HttpResponse<String> unavailable : List.of(query, refusedBatch)) {
                assertThat(unavailable.statusCode()).isEqualTo(503);
                assertThat(header(unavailable, "Retry-After")).isEqualTo("1");
                assertThat(header(unavailable, "Access-Control-Allow-Origin")).isEqualTo("*");
                assertThat(header(unavailable, "Access-Control-Expose-Headers"))
                        .as("so the tracker can honour it").isEqualTo("Retry-After");
            }
            assertThat(stopping.stats().accepted()).isZero();
        }
    }

    @Test
    void aNarrowedListRefusesAnotherOriginsPageWith403NamingItAndTakesNothingFromIt() throws Exception {
        String reason = "Origin: expected an origin in CORS_ALLOWED_ORIGINS, found 'https://evil.example'";
        HttpResponse<String> preflight = preflight(narrowed, "/analytics/batch", EVIL);
        assertThat(preflight.statusCode()).isEqualTo(403);
        assertThat(preflight.body()).isEqualTo(reason + "\n");
        assertThat(header(preflight, "Access-Control-Allow-Origin")).isNull();

        long acceptedBefore = narrowed.stats().accepted();
        HttpResponse<String> query = request(narrowed, "POST", "/analytics?timestamp=" + NOW_MS
                + "&user=evil&event=click", null, "Origin", EVIL);
        assertThat(query.statusCode()).isEqualTo(403);
        assertThat(query.body()).isEqualTo(reason + "\n");
        HttpResponse<String> batch = request(narrowed, "POST", "/analytics/batch", line(NOW_MS, "evil", "click",
                "evil-1"), "Origin", EVIL, "Content-Type", "text/plain;charset=UTF-8");
        assertThat(batch.statusCode()).isEqualTo(403);
        assertThat(batch.body()).isEqualTo("{\"error\":\"" + reason + "\"}\n");
        assertThat(header(batch, "Access-Control-Allow-Origin")).as("so the page can read why").isEqualTo(EVIL);
        assertThat(narrowed.stats().accepted()).isEqualTo(acceptedBefore);

        HttpResponse<String> shopPreflight = preflight(narrowed, "/analytics", SHOP);
        assertThat(shopPreflight.statusCode()).isEqualTo(204);
        assertThat(header(shopPreflight, "Access-Control-Allow-Origin")).isEqualTo(SHOP);
        assertThat(header(shopPreflight, "Vary")).isEqualTo("Origin");
        HttpResponse<String> shop = request(narrowed, "POST", "/analytics?timestamp=" + NOW_MS
                + "&user=shop&event=click", null, "Origin", SHOP);
        assertThat(shop.statusCode()).isEqualTo(204);
        assertThat(header(shop, "Access-Control-Allow-Origin")).isEqualTo(SHOP);
        assertThat(header(shop, "Vary")).isEqualTo("Origin");
        HttpResponse<String> server = request(narrowed, "POST", "/analytics?timestamp=" + NOW_MS
                + "&user=backend&event=click", null);
        assertThat(server.statusCode()).as("no Origin: a server, never refused").isEqualTo(204);
        assertThat(corsHeaders(server)).isEmpty();
        assertThat(narrowed.stats().accepted()).isEqualTo(acceptedBefore + 2);
    }

    @Test
    void noOtherRouteAnswersAPreflightOrCarriesACorsHeader() throws Exception {
        String bearer = "Bearer " + TOKEN;
        // Nor does GET /analytics: counts are for the site's own back end, which needs no CORS to read them.
        HttpResponse<String> counts = request(open, "GET", "/analytics?timestamp=" + NOW_MS, null, "Origin", EVIL);
        assertThat(counts.statusCode()).isEqualTo(200);
        assertThat(corsHeaders(counts)).isEmpty();
        for (String path : List.of("/admin/settings", "/status", "/status.json", "/metrics", "/readyz", "/healthz")) {
            HttpResponse<String> get = request(open, "GET", path, null, "Origin", EVIL, "Authorization", bearer);
            assertThat(get.statusCode()).as("GET %s", path).isEqualTo(200);
            assertThat(corsHeaders(get)).as("GET %s", path).isEmpty();
            HttpResponse<String> preflight = request(open, "OPTIONS", path, null, "Origin", EVIL,
                    "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization");
            assertThat(preflight.statusCode()).as("OPTIONS %s", path).isEqualTo(405);
            assertThat(corsHeaders(preflight)).as("OPTIONS %s", path).isEmpty();
        }
        HttpResponse<String> change = request(open, "POST", "/admin/settings", "{\"GET_CACHE_TTL_MS\":50}",
                "Origin", EVIL, "Authorization", bearer, "Content-Type", "application/json");
        assertThat(change.statusCode()).isEqualTo(200);
        assertThat(corsHeaders(change)).as("an answer another site's page cannot read").isEmpty();
    }

    @Test
    void aTextPlainBatchWhatABeaconSendsIsReadAsNdjsonWhateverItsCharsetAndCounted() throws Exception {
        long hourMs = Hours.startMs(NOW_MS) - 2 * Hours.HOUR_MS; // an hour no other test of this class writes to
        long rowsBefore = open.stats().rowsWritten();
        long resendsBefore = open.stats().resends();
        HttpResponse<String> chrome = request(open, "POST", "/analytics/batch", line(hourMs + 1, "plain-a", "click",
                "p-1") + line(hourMs + 2, "plain-b", "impression", "p-2"), "Origin", SHOP,
                "Content-Type", "text/plain;charset=UTF-8");
        HttpResponse<String> other = request(open, "POST", "/analytics/batch", line(hourMs + 3, "plain-a", "click",
                "p-3"), "Content-Type", "text/plain; charset=us-ascii");
        HttpResponse<String> bare = request(open, "POST", "/analytics/batch", line(hourMs + 4, "plain-c", "click",
                "p-4"), "Content-Type", "TEXT/PLAIN");
        assertThat(List.of(chrome.body(), other.body(), bare.body()))
                .containsExactly("{\"accepted\":2}\n", "{\"accepted\":1}\n", "{\"accepted\":1}\n");
        HttpResponse<String> again = request(open, "POST", "/analytics/batch", line(hourMs + 1, "plain-a", "click",
                "p-1"), "Origin", SHOP, "Content-Type", "text/plain;charset=UTF-8");
        assertThat(again.statusCode()).as("a beacon resent by the next page").isEqualTo(200);
        awaitRowsWritten(open, rowsBefore + 4);
        await().atMost(Duration.ofSeconds(30)).until(() -> open.stats().resends() > resendsBefore);
        assertThat(send(open, "GET", "/analytics?timestamp=" + hourMs).body())
                .isEqualTo("unique_users,3\nclicks,3\nimpressions,1\n");
    }

    @Test
    void theTrackerIsServedAtItsPathAndItsVersionedPath() throws Exception {
        ScriptHandler script = new ScriptHandler();
        HttpResponse<String> plain = send(open, "GET", ScriptHandler.PATH);
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(plain.body().getBytes(StandardCharsets.UTF_8)).isEqualTo(script.script());
        assertThat(header(plain, "Content-Type")).isEqualTo(ScriptHandler.CONTENT_TYPE);
        assertThat(header(plain, "Cache-Control")).isEqualTo(ScriptHandler.UNVERSIONED_CACHE);
        HttpResponse<String> versioned = send(open, "GET", script.versionedPath());
        assertThat(versioned.body()).isEqualTo(plain.body());
        assertThat(header(versioned, "Cache-Control")).isEqualTo(ScriptHandler.VERSIONED_CACHE);
        HttpResponse<String> head = send(open, "HEAD", script.versionedPath());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }
}
