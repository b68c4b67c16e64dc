package io.tracerboy.edge;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Committed mode, stopped while the database is unreachable: a client is told "not written" only when that is certain.
 * When the connection died after the COMMIT was sent, the event may be stored: the answer says the outcome is unknown,
 * with a status the gateway does not retry, so a retry cannot count it twice behind the client's back.
 */
class CommitOutcomeIT {
    private static final String EVENT = "/analytics?timestamp=" + (Hours.startMs(System.currentTimeMillis())
            - Hours.HOUR_MS) + "&user=u1&event=click";

    private static HttpResponse<String> postThenStopWhenTheCutHappened(TestDatabase database, String cutAfter)
            throws Exception {
        // prepareThreshold=0: pgjdbc sends each statement's text every time, so the proxy can see it.
        try (TcpProxy proxy = new TcpProxy(database.url())) {
            TracerboyServer server = startServer(proxy.proxiedUrl(database.url()) + "&prepareThreshold=0",
                    Map.of("ACK_MODE", "committed", "SHUTDOWN_TIMEOUT_MS", "1000"));
            try {
                assertThat(server.awaitReady(60_000)).isTrue();
                // Retention's first run commits too (partitions ahead): the cut must find the writer's statement.
                await().atMost(Duration.ofSeconds(30)).until(() -> server.retentionStatus().ranAtMs() > 0);
                proxy.loseReplyTo(cutAfter);
                CompletableFuture<HttpResponse<String>> answer = TestServers.http.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + EVENT)).POST(
                                HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(proxy.awaitReplyLost(30_000)).as("the proxy cut the connection after %s", cutAfter).isTrue();
                assertThat(server.stop()).isEqualTo(1); // the database stays unreachable through the whole timeout
                return answer.get(30, TimeUnit.SECONDS);
            } finally {
                server.close();
            }
        }
    }

    @Test
    void aCommitWhoseReplyWasLostIsAnsweredOutcomeUnknownNotNotWritten() throws Exception {
        try (TestDatabase database = TestDatabase.create()) {
            HttpResponse<String> answer = postThenStopWhenTheCutHappened(database, "COMMIT");

            assertThat(answer.statusCode()).isEqualTo(504);
            assertThat(answer.body()).isEqualTo(PublishGate.OUTCOME_UNKNOWN + "\n");
            // It was in fact committed: answering "not written" here would have made the client's retry a duplicate.
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(1);
            assertThat(database.queryLong("SELECT clicks FROM hourly_stats")).isEqualTo(1);
        }
    }

    @Test
    void aBatchCutBeforeItsCommitIsAnsweredNotWritten() throws Exception {
        try (TestDatabase database = TestDatabase.create()) {
            HttpResponse<String> answer = postThenStopWhenTheCutHappened(database, "hourly_stats");

            assertThat(answer.statusCode()).isEqualTo(503);
            assertThat(answer.body()).isEqualTo("not written: the service stopped while the database was unreachable; "
                    + "send the event again\n");
            assertThat(database.queryLong("SELECT count(*) FROM events")).isZero();
        }
    }
}
