package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@code ACK_MODE=committed}: a 204 means the row is committed. */
class CommittedAckIT {
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;

    private static CompletableFuture<HttpResponse<String>> postAsync(TracerboyServer server, String user) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().sendAsync(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/analytics?timestamp=" + HOUR_START_MS + "&user="
                        + user
                        + "&event=click")).POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(60))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void every204ComesAfterItsRowIsCommitted() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ACK_MODE", "committed",
                     "FLUSH_INTERVAL_MS", "20"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            for (int i = 1; i <= 20; i++) {
                HttpResponse<String> response = send(server, "POST", "/analytics?timestamp=" + HOUR_START_MS
                        + "&user=u" + i
                        + "&event=click");
                assertThat(response.statusCode()).isEqualTo(204);
                assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(i);
            }
            assertThat(send(server, "GET", "/analytics?timestamp=" + HOUR_START_MS).body())
                    .isEqualTo("unique_users,20\nclicks,20\nimpressions,0\n");
        }
    }

    @Test
    void whileTheDatabaseIsDownTheRequestWaitsAndOtherRequestsAreStillServed() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url());
             TracerboyServer server = startServer(proxy.proxiedUrl(database.url()), Map.of("ACK_MODE", "committed",
                     "FLUSH_INTERVAL_MS", "5", "IO_THREADS", "1"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            proxy.refuse();
            proxy.dropAll();
            CompletableFuture<HttpResponse<String>> waiting = postAsync(server, "patient");
            await().atMost(Duration.ofSeconds(30)).until(server.stats()::writesFailing);
            assertThat(waiting).isNotDone();
            // The only IO thread is not blocked by the suspended request: it still answers others.
            assertThat(send(server, "GET", "/healthz").statusCode()).isEqualTo(200);
            assertThat(send(server, "POST", "/analytics?user=x&event=nope").statusCode()).isEqualTo(400);

            proxy.restore();
            HttpResponse<String> answered = waiting.get();
            assertThat(answered.statusCode()).isEqualTo(204);
            assertThat(database.queryLong("SELECT count(*) FROM events WHERE user_id = 'patient'")).isEqualTo(1);
        }
    }

    @Test
    void aStopWithTheDatabaseDownAnswers503ToWaitingRequestsAndCountsThem() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url())) {
            TracerboyServer server = startServer(proxy.proxiedUrl(database.url()), Map.of("ACK_MODE", "committed",
                    "FLUSH_INTERVAL_MS", "5", "SHUTDOWN_TIMEOUT_MS", "200"));
            assertThat(server.awaitReady(60_000)).isTrue();
            proxy.refuse();
            proxy.dropAll();
            CompletableFuture<HttpResponse<String>> waiting = postAsync(server, "lost");
            await().atMost(Duration.ofSeconds(30)).until(() -> server.stats().accepted() > 0);
            CompletableFuture<Long> stopped = CompletableFuture.supplyAsync(server::stop);
            HttpResponse<String> answer = waiting.get();
            assertThat(answer.statusCode()).isEqualTo(503);
            assertThat(answer.body()).isEqualTo("not written: the service stopped while the database was unreachable; "
                    + "send the event again\n");
            assertThat(stopped.get()).isEqualTo(1);
            proxy.restore();
            assertThat(database.queryLong("SELECT count(*) FROM events")).isZero();
        }
    }
}
