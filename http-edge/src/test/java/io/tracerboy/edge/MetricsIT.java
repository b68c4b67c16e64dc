package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** /metrics after known traffic, and /readyz following the database away and back. */
class MetricsIT {
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;

    private static double metric(String body, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
        assertThat(m.find()).as("series %s in:%n%s", series, body).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void countersMatchTheTrafficExactly() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("FLUSH_INTERVAL_MS", "5",
                     "BATCH_SIZE", "7", "MAX_BODY_BYTES", "10"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            for (int i = 0; i < 50; i++) {
                assertThat(send(server, "POST", "/analytics?timestamp=" + HOUR_START_MS + "&user=u" + i
                        + "&event=click")
                        .statusCode()).isEqualTo(204);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(send(server, "POST", "/analytics?user=u&event=nope").statusCode()).isEqualTo(400);
            }
            assertThat(send(server, "GET", "/analytics?timestamp=" + HOUR_START_MS).statusCode()).isEqualTo(200);
            assertThat(send(server, "GET", "/analytics?timestamp=bad").statusCode()).isEqualTo(400);
            TestServers.awaitRowsWritten(server, 50);

            HttpResponse<String> scrape = send(server, "GET", "/metrics");
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type")).hasValue(
                    "text/plain; version=0.0.4; charset=utf-8");
            String body = scrape.body();
            assertThat(metric(body, "tracerboy_events_accepted_total")).isEqualTo(50);
            assertThat(metric(body, "tracerboy_events_rejected_total{reason=\"invalid\"}")).isEqualTo(3);
            assertThat(metric(body, "tracerboy_events_rejected_total{reason=\"ring_full\"}")).isZero();
            assertThat(metric(body, "tracerboy_events_rejected_total{reason=\"shutting_down\"}")).isZero();
            assertThat(metric(body, "tracerboy_rows_written_total")).isEqualTo(50);
            assertThat(metric(body, "tracerboy_batch_size_events_sum")).isEqualTo(50);
            assertThat(metric(body, "tracerboy_batch_size_events_bucket{le=\"10.0\"}"))
                    .isEqualTo(metric(body, "tracerboy_batch_size_events_count"));
            assertThat(metric(body, "tracerboy_flushes_total{trigger=\"size\"}")
                    + metric(body, "tracerboy_flushes_total{trigger=\"interval\"}"))
                    .isEqualTo(metric(body, "tracerboy_flush_duration_seconds_count"));
            assertThat(metric(body, "tracerboy_get_requests_total{status=\"200\"}")).isEqualTo(1);
            assertThat(metric(body, "tracerboy_get_requests_total{status=\"400\"}")).isEqualTo(1);
            assertThat(metric(body, "tracerboy_get_duration_seconds_count")).isEqualTo(1);
            assertThat(metric(body, "tracerboy_ring_capacity_events")).isEqualTo(262_144);
            assertThat(metric(body, "tracerboy_ring_depth_events")).isZero();
            assertThat(metric(body, "tracerboy_oldest_unwritten_event_age_seconds")).isZero();
            assertThat(metric(body, "tracerboy_write_failures_total")).isZero();
            assertThat(metric(body, "tracerboy_events_dead_lettered_total")).isZero();
            assertThat(body).contains("jvm_memory_used_bytes{area=\"heap\"}");

            HttpResponse<String> tooLarge = TestServers.http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + server.port() + "/analytics?user=u&event=click"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("x".repeat(100))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(tooLarge.statusCode()).isEqualTo(413);
            assertThat(metric(send(server, "GET", "/metrics").body(),
                    "tracerboy_events_rejected_total{reason=\"too_large\"}")).isEqualTo(1);
        }
    }

    private static HttpResponse<String> withProbeTimeout(TracerboyServer server, String path) throws Exception {
        return TestServers.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readinessFollowsTheDatabaseAwayAndBack() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url());
             TracerboyServer server = startServer(proxy.proxiedUrl(database.url()), Map.of())) {
            assertThat(server.awaitReady(60_000)).isTrue();
            assertThat(send(server, "GET", "/readyz").statusCode()).isEqualTo(200);
            proxy.refuse();
            proxy.dropAll();
            // Each request with the 1 s timeout a readiness probe usually has: the answers come from the state the
            // writer and the database probe keep, never from waiting out a pool's connection timeout.
            await().atMost(Duration.ofSeconds(30)).until(() -> withProbeTimeout(server, "/readyz").statusCode() == 503);
            HttpResponse<String> away = withProbeTimeout(server, "/readyz");
            assertThat(away.body()).isEqualTo("not ready: database unreachable\n");
            HttpResponse<String> get = withProbeTimeout(server, "/analytics");
            assertThat(get.statusCode()).isEqualTo(503);
            assertThat(get.body()).isEqualTo("database unavailable: unreachable at the last check\n");
            assertThat(withProbeTimeout(server, "/healthz").statusCode()).isEqualTo(200);
            proxy.restore();
            await().atMost(Duration.ofSeconds(30)).until(() -> withProbeTimeout(server, "/readyz").statusCode() == 200);
            HttpResponse<String> back = withProbeTimeout(server, "/readyz");
            assertThat(back.body()).isEqualTo("ready\n");
        }
    }
}
