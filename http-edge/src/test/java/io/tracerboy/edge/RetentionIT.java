package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.batch;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.storage.StorageEngine;
import io.tracerboy.testsupport.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Retention through HTTP, on a clock the test moves: events older than what is kept to count them are refused, and an
 * hour whose raw data is dropped still answers its exact counts.
 */
class RetentionIT {
    @Test
    void eventsOlderThanTheShorterRetentionAreRefusedAndAnHourWhoseDaysAreDroppedStillAnswersExactly()
            throws Exception {
        long startMs = Hours.startMs(System.currentTimeMillis()) + 30 * 60_000;
        AtomicLong nowMs = new AtomicLong(startMs);
        Map<String, String> config = Map.of("ACK_MODE", "committed", "EVENT_RETENTION_HOURS", "48",
                "USER_RETENTION_HOURS", "24");
        long inside = startMs - 23 * Hours.HOUR_MS;
        long outside = startMs - 25 * Hours.HOUR_MS;
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), config, nowMs::get)) {
            assertThat(server.awaitReady(60_000)).isTrue();
            assertThat(send(server, "POST", "/analytics?timestamp=" + inside + "&user=ann&event=click").statusCode())
                    .isEqualTo(204);
            assertThat(send(server, "POST", "/analytics?timestamp=" + inside + "&user=bob&event=impression")
                    .statusCode()).isEqualTo(204);

            HttpResponse<String> old = send(server, "POST", "/analytics?timestamp=" + outside
                    + "&user=ann&event=click");
            assertThat(old.statusCode()).isEqualTo(400);
            assertThat(old.body()).isEqualTo("timestamp: expected at most 24 hours old (USER_RETENTION_HOURS), found "
                    + outside + " (" + Instant.ofEpochMilli(outside) + ", 25 hours old)\n");
            HttpResponse<String> oldInBatch = batch(server, "application/x-ndjson", ("{\"timestamp\":" + inside
                    + ",\"user\":\"cat\",\"event\":\"click\"}\n{\"timestamp\":" + outside
                    + ",\"user\":\"cat\",\"event\":\"click\"}").getBytes(StandardCharsets.UTF_8));
            assertThat(oldInBatch.statusCode()).isEqualTo(400);
            assertThat(oldInBatch.body()).startsWith("{\"invalid\":1,\"errors\":[{\"line\":2,\"error\":\"timestamp:"
                    + " expected at most 24 hours old (USER_RETENTION_HOURS)");
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(2); // the batch is refused whole
            String dayPartition = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass"
                    + " AND inhrelid::regclass::text = 'events_p" + Instant.ofEpochMilli(inside).toString()
                    .substring(0, 10).replace('-', '_') + "'";
            assertThat(database.queryLong(dayPartition)).isEqualTo(1);

            // Five days later, the days of those events are past both retentions: dropped whole, counts kept.
            nowMs.set(startMs + 5 * 24 * Hours.HOUR_MS);
            try (Database pool = new Database(database.url(), null, null, 1)) {
                new RetentionKeeper(pool.dataSource(), StorageEngine.POSTGRESQL,
                        new RetentionKeeper.Retention(48, 24, 24), nowMs::get).runOnce();
            }
            assertThat(database.queryLong("SELECT count(*) FROM events")).isZero();
            assertThat(database.queryLong(dayPartition)).isZero();
            assertThat(send(server, "GET", "/analytics?timestamp=" + inside).body())
                    .isEqualTo("unique_users,2\nclicks,1\nimpressions,1\n");
            assertThat(send(server, "POST", "/analytics?timestamp=" + inside + "&user=ann&event=click").statusCode())
                    .isEqualTo(400);
        }
    }

    @Test
    void whatRetentionKeepsIsInTheMetricsAndTheStatusJson() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of())) {
            assertThat(server.awaitReady(60_000)).isTrue();
            await().atMost(Duration.ofSeconds(30)).until(() -> server.retentionStatus().ranAtMs() > 0);
            String metrics = send(server, "GET", "/metrics").body();
            // Today and the next two days, for each table; a fresh database holds no row yet.
            assertThat(metrics).contains("tracerboy_table_partitions{table=\"events\"} 3.0",
                    "tracerboy_table_partitions{table=\"hourly_users\"} 3.0",
                    "tracerboy_table_partitions{table=\"request_keys\"} 3.0", "tracerboy_retention_failing 0.0");
            assertThat(metrics).containsPattern("tracerboy_table_bytes\\{table=\"events\"} [1-9]");
            String json = send(server, "GET", "/status.json").body();
            assertThat(json).containsPattern("\"retention\":\\{\"ran_at_ms\":[1-9][0-9]*,\"failing\":false,"
                    + "\"tables\":\\{\"events\":\\{\"partitions\":3,\"oldest_kept_ms\":[0-9]+,\"bytes\":[0-9]+}");
        }
    }
}
