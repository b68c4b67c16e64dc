package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.batch;
import static io.tracerboy.edge.TestServers.http;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Event ids make a resend harmless: through several servers on one database, after a restart, after a lost answer. */
class EventIdsIT {
    // The current hour: ids are remembered for EVENT_ID_RETENTION_HOURS (24) only.
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis());

    private static byte[] events(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> "{\"timestamp\":" + (HOUR_START_MS + i) + ",\"user\":\"" + prefix
                + i % 3 + "\",\"event\":\"" + (i % 2 == 0 ? "click" : "impression") + "\",\"id\":\"" + prefix + "-" + i
                + "\"}").collect(Collectors.joining("\n")).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void twoServersOnOneDatabaseAndARestartCountEachIdOnceAndSayHowManyWereResends() throws Exception {
        Map<String, String> committed = Map.of("ACK_MODE", "committed");
        try (TestDatabase database = TestDatabase.create()) {
            byte[] body = events("two", 6);
            try (TracerboyServer first = startServer(database.url(), committed);
                 TracerboyServer second = startServer(database.url(), committed)) {
                assertThat(first.awaitReady(60_000) && second.awaitReady(60_000)).isTrue();
                assertThat(batch(first, "application/x-ndjson", body).body())
                        .isEqualTo("{\"accepted\":6,\"duplicates\":0}\n");
                assertThat(batch(second, "application/x-ndjson", body).body())
                        .isEqualTo("{\"accepted\":6,\"duplicates\":6}\n");
                assertThat(send(second, "POST", "/analytics?timestamp=" + HOUR_START_MS + "&user=two0&event=click"
                        + "&id=two-0").statusCode()).isEqualTo(204);
            }
            try (TracerboyServer restarted = startServer(database.url(), committed)) {
                assertThat(restarted.awaitReady(60_000)).isTrue();
                assertThat(batch(restarted, "application/x-ndjson", body).body())
                        .isEqualTo("{\"accepted\":6,\"duplicates\":6}\n");
                assertThat(send(restarted, "GET", "/analytics?timestamp=" + HOUR_START_MS).body())
                        .isEqualTo("unique_users,3\nclicks,3\nimpressions,3\n");
            }
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(6);
        }
    }

    @Test
    void anIdWhoseHourIsOlderThanTheRetentionCountsAgainEachTimeItIsSent() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ACK_MODE", "committed",
                     "EVENT_ID_RETENTION_HOURS", "1"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            long threeHoursAgo = System.currentTimeMillis() - 3 * Hours.HOUR_MS;
            for (int i = 0; i < 3; i++) {
                assertThat(send(server, "POST", "/analytics?timestamp=" + threeHoursAgo + "&user=late&event=click"
                        + "&id=late-1").statusCode()).isEqualTo(204);
            }
            assertThat(send(server, "GET", "/analytics?timestamp=" + threeHoursAgo).body())
                    .isEqualTo("unique_users,1\nclicks,3\nimpressions,0\n");
            assertThat(database.queryLong("SELECT count(*) FROM events WHERE event_key IS NOT NULL")).isZero();
        }
    }

    @Test
    void aClientThatResendsAfterItsAnswerWasCutMidFlightCountsEachEventOnce() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ACK_MODE", "committed"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            byte[] body = events("cut", 30);
            try (TcpProxy toServer = new TcpProxy("127.0.0.1", server.port())) {
                toServer.loseReplyTo("POST /analytics/batch");
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + toServer.port()
                        + "/analytics/batch")).header("Content-Type", "application/x-ndjson")
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
                assertThatThrownBy(() -> http.send(request, HttpResponse.BodyHandlers.ofString()))
                        .isInstanceOf(IOException.class);
                assertThat(toServer.awaitReplyLost(10_000)).isTrue();
                toServer.restore();
                // The client cannot know whether the batch was stored; with ids, sending it again is safe.
                HttpResponse<String> retry = http.send(request, HttpResponse.BodyHandlers.ofString());
                assertThat(retry.statusCode()).isEqualTo(200);
                assertThat(retry.body()).isEqualTo("{\"accepted\":30,\"duplicates\":30}\n");
            }
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(30);
            assertThat(send(server, "GET", "/analytics?timestamp=" + HOUR_START_MS).body())
                    .isEqualTo("unique_users,3\nclicks,15\nimpressions,15\n");
        }
    }
}
