package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Knobs turned on a running service under load: every acknowledged event stored and counted once. */
class LiveTuningIT {
    private static final String TOKEN = "live-tuning-admin-token";
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;

    /** True while every client runs; what one failed with otherwise, at once rather than at a later timeout. */
    private static boolean noneFailed(List<Future<?>> clients) throws Exception {
        for (Future<?> client : clients) {
            if (client.isDone()) {
                client.get();
            }
        }
        return true;
    }

    @Test
    void changingBatchSizeAndFlushIntervalUnderLoadLosesNoAcknowledgedEvent() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ADMIN_TOKEN", TOKEN))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            AtomicBoolean loading = new AtomicBoolean(true);
            AtomicLong acknowledged = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> clients = new ArrayList<>();
            try {
                for (int c = 0; c < 3; c++) {
                    int client = c;
                    clients.add(pool.submit(() -> {
                        for (int i = 0; loading.get(); i++) {
                            if (client == 0) { // batches of 50
                                int n = i;
                                String body = IntStream.range(0, 50).mapToObj(k -> "{\"timestamp\":"
                                        + (HOUR_START_MS + k) + ",\"user\":\"b" + (n * 50 + k) % 997
                                        + "\",\"event\":\"impression\"}").collect(Collectors.joining("\n"));
                                HttpResponse<String> answer = TestServers.batch(server, "application/x-ndjson",
                                        body.getBytes());
                                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                                acknowledged.addAndGet(50);
                            } else {
                                HttpResponse<String> answer = send(server, "POST", "/analytics?timestamp="
                                        + HOUR_START_MS + "&user=s" + client + "-" + i % 501 + "&event=click");
                                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(204);
                                acknowledged.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                String[] changes = {"{\"BATCH_SIZE\":7,\"FLUSH_INTERVAL_MS\":0}", "{\"FLUSH_INTERVAL_MS\":\"auto\"}",
                    "{\"BATCH_SIZE\":100000,\"FLUSH_INTERVAL_MS\":500}", "{\"TARGET_LAG_MS\":5,"
                        + "\"FLUSH_INTERVAL_MS\":\"auto\"}", "{\"BATCH_SIZE\":1,\"FLUSH_INTERVAL_MS\":1}",
                    "{\"BATCH_SIZE\":10000,\"FLUSH_INTERVAL_MS\":100}"};
                for (String change : changes) {
                    long before = server.stats().batchesWritten();
                    assertThat(TestServers.admin(server, "POST", "/admin/settings", "Bearer " + TOKEN,
                            "application/json", change).statusCode()).as(change).isEqualTo(200);
                    // Let each setting write a few batches under load before the next change.
                    await().atMost(Duration.ofSeconds(30)).until(() -> noneFailed(clients)
                            && server.stats().batchesWritten() >= before + 3);
                }
                assertThat(server.liveSettings().changes()).isGreaterThanOrEqualTo(changes.length);
                loading.set(false);
                for (Future<?> client : clients) {
                    client.get(60, TimeUnit.SECONDS);
                }
            } finally {
                loading.set(false);
                pool.shutdownNow();
            }
            TestServers.awaitRowsWritten(server, acknowledged.get());
            assertThat(acknowledged.get()).isGreaterThan(500);
            assertThat(server.stats().rowsWritten()).isEqualTo(acknowledged.get());
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(acknowledged.get());
            assertThat(database.queryLong("SELECT clicks + impressions FROM hourly_stats")).isEqualTo(
                    acknowledged.get());
            assertThat(database.queryLong("SELECT unique_users FROM hourly_stats")).isEqualTo(
                    database.queryLong("SELECT count(DISTINCT user_id) FROM events"));
        }
    }
}
