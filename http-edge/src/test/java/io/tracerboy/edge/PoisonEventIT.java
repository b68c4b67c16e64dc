package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An event the database refuses, inside a batch of good ones, ends in dead_letters; its neighbours are written. */
class PoisonEventIT {
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;

    @Test
    void aRefusedEventIsDeadLetteredWhileTheRestOfItsBatchIsWritten() throws Exception {
        try (TestDatabase database = TestDatabase.create()) {
            // Long interval and a big batch: all 101 events reach the sink as one batch, at stop.
            TracerboyServer server = startServer(database.url(), Map.of("FLUSH_INTERVAL_MS", "60000"));
            assertThat(server.awaitReady(60_000)).isTrue();
            try (Connection connection = DriverManager.getConnection(database.url());
                 Statement statement = connection.createStatement()) {
                // A constraint validation does not know about: it stands for any data error the database may raise.
                statement.execute("ALTER TABLE events ADD CONSTRAINT no_poison CHECK (user_id <> 'poison')");
            }
            for (int i = 0; i < 101; i++) {
                String user = i == 42 ? "poison" : "u" + i;
                assertThat(send(server, "POST", "/analytics?timestamp=" + (HOUR_START_MS + i) + "&user=" + user
                        + "&event=click").statusCode()).isEqualTo(204);
            }
            assertThat(server.stop()).isZero();

            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(100);
            assertThat(database.queryLong("SELECT count(*) FROM events WHERE user_id = 'poison'")).isZero();
            assertThat(database.queryLong("SELECT clicks FROM hourly_stats")).isEqualTo(100);
            assertThat(database.queryLong("SELECT unique_users FROM hourly_stats")).isEqualTo(100);
            assertThat(database.queryLong("SELECT count(*) FROM dead_letters WHERE convert_from(user_id, 'UTF8') = "
                    + "'poison' AND ts_ms = " + (HOUR_START_MS + 42) + " AND kind = 0 AND reason LIKE '%no_poison%' "
                    + "AND received_at > now() - interval '" + Duration.ofMinutes(5).toSeconds() + " seconds'"))
                    .isEqualTo(1);
            assertThat(server.stats().deadLettered()).isEqualTo(1);
            assertThat(server.stats().rowsWritten()).isEqualTo(100);
        }
    }
}
