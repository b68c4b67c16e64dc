package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.batch;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** {@code Idempotency-Key} on batches: a resend writes nothing and is answered what the first was. */
class IdempotencyKeyIT {
    private static final long HOUR_MS = Hours.startMs(System.currentTimeMillis()) - Hours.HOUR_MS;
    private static final String NDJSON = "application/x-ndjson";

    /** {@code n} events without ids for users {@code prefix}0..2, clicks and impressions alternating. */
    private static byte[] body(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> "{\"timestamp\":" + (HOUR_MS + i) + ",\"user\":\"" + prefix
                + i % 3 + "\",\"event\":\"" + (i % 2 == 0 ? "click" : "impression") + "\"}")
                .collect(Collectors.joining("\n")).getBytes(StandardCharsets.UTF_8);
    }

    private static String counts(TracerboyServer server) throws Exception {
        return send(server, "GET", "/analytics?timestamp=" + HOUR_MS).body();
    }

    @Test
    void aResendWithTheSameKeyAndBodyIsAnsweredTheFirstResultAndWritesNothing() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ACK_MODE", "committed"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            byte[] body = body("k", 6);
            HttpResponse<String> first = batch(server, NDJSON, body, "Idempotency-Key", "\"order-1\"");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body()).isEqualTo("{\"accepted\":6,\"duplicates\":0}\n");
            assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> again = batch(server, NDJSON, body, "Idempotency-Key", "\"order-1\"");
                assertThat(again.statusCode()).isEqualTo(200);
                assertThat(again.body()).isEqualTo(first.body());
                assertThat(again.headers().firstValue("Idempotent-Replayed")).hasValue("true");
            }
            assertThat(counts(server)).isEqualTo("unique_users,3\nclicks,3\nimpressions,3\n");
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(6);
            assertThat(database.queryLong("SELECT count(*) FROM request_keys")).isEqualTo(1);

            HttpResponse<String> other = batch(server, NDJSON, body("x", 2), "Idempotency-Key", "order-1");
            assertThat(other.statusCode()).isEqualTo(422);
            assertThat(other.body()).matches("\\{\"error\":\"Idempotency-Key: expected the body first sent with"
                    + " 'order-1' \\(sha256 [0-9a-f]{64}\\), found another body \\(sha256 [0-9a-f]{64}\\)\"}\n");
            HttpResponse<String> bad = batch(server, NDJSON, body, "Idempotency-Key", "k".repeat(256));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).isEqualTo("{\"error\":\"Idempotency-Key: expected 1 to 255 printable ASCII"
                    + " characters, found '" + "k".repeat(256) + "'\"}\n");
            assertThat(batch(server, NDJSON, body, "Idempotency-Key", "\"\"").body()).isEqualTo("{\"error\":"
                    + "\"Idempotency-Key: expected 1 to 255 printable ASCII characters, found nothing\"}\n");
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(6);
        }
    }

    @Test
    void copiesSentAtOnceThroughTwoServersInBufferedModeAreStoredOnce() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer a = startServer(database.url(), Map.of());
             TracerboyServer b = startServer(database.url(), Map.of())) {
            assertThat(a.awaitReady(60_000) && b.awaitReady(60_000)).isTrue();
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int request = 0; request < 10; request++) {
                byte[] body = body("r" + request + "-", 50);
                for (int copy = 0; copy < 4; copy++) {
                    TracerboyServer target = copy % 2 == 0 ? a : b;
                    String key = "req-" + request;
                    answers.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return batch(target, NDJSON, body, "Idempotency-Key", key);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
            }
            for (CompletableFuture<HttpResponse<String>> answer : answers) {
                assertThat(answer.get().statusCode()).isEqualTo(200);
            }
            // Every copy is taken by a writer, stored or found a resend; 40 copies of 50 events, 10 of them stored.
            await().atMost(Duration.ofSeconds(30)).until(() -> a.stats().rowsWritten() + a.stats().resends()
                    + b.stats().rowsWritten() + b.stats().resends() + replayed(answers) * 50 >= 40 * 50);
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(10 * 50);
            assertThat(database.queryLong("SELECT count(*) FROM request_keys")).isEqualTo(10);
            assertThat(database.queryLong("SELECT sum(clicks + impressions) FROM hourly_stats")).isEqualTo(500);
        }
    }

    private static long replayed(List<CompletableFuture<HttpResponse<String>>> answers) {
        return answers.stream().filter(answer -> answer.join().headers().firstValue("Idempotent-Replayed")
                .isPresent()).count();
    }

    @Test
    void aKeyIsRememberedForTheEventIdWindowOnlyByTheServersClock() throws Exception {
        AtomicLong nowMs = new AtomicLong(System.currentTimeMillis());
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ACK_MODE", "committed",
                     "EVENT_ID_RETENTION_HOURS", "2"), nowMs::get)) {
            assertThat(server.awaitReady(60_000)).isTrue();
            byte[] body = body("w", 2);
            assertThat(batch(server, NDJSON, body, "Idempotency-Key", "w-1").body())
                    .isEqualTo("{\"accepted\":2,\"duplicates\":0}\n");
            nowMs.addAndGet(Hours.HOUR_MS);
            assertThat(batch(server, NDJSON, body, "Idempotency-Key", "w-1").headers()
                    .firstValue("Idempotent-Replayed")).hasValue("true");
            nowMs.addAndGet(2 * Hours.HOUR_MS); // three hours after the first: past the two-hour window
            HttpResponse<String> late = batch(server, NDJSON, body, "Idempotency-Key", "w-1");
            assertThat(late.body()).isEqualTo("{\"accepted\":2,\"duplicates\":0}\n");
            assertThat(late.headers().firstValue("Idempotent-Replayed")).isEmpty();
            assertThat(counts(server)).isEqualTo("unique_users,2\nclicks,2\nimpressions,2\n");
        }
    }
}
