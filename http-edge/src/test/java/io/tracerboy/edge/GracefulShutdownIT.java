package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.JarProcess;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The real jar as a child process under load: SIGTERM, and kill -9 in committed mode; rows are counted against 204s.
 */
class GracefulShutdownIT {
    private static final long HOUR_START_MS = Hours.startMs(1_700_000_000_000L);

    private static String query(int n) {
        return "timestamp=" + (HOUR_START_MS + n % Hours.HOUR_MS) + "&user=u" + n + "&event=" + (n % 3 == 0 ? "click"
                : "impression");
    }

    private static Set<String> storedUsers(TestDatabase database) throws Exception {
        Set<String> users = new HashSet<>();
        try (Connection connection = DriverManager.getConnection(database.url());
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT user_id FROM events")) {
            while (rs.next()) {
                users.add(rs.getString(1));
            }
        }
        return users;
    }

    @Test
    void sigtermUnderLoadWritesEveryAcknowledgedEventAndExitsZero() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             // Long linger and huge batches: at SIGTERM most acknowledged events are still only in memory.
             JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", database.url(),
                     "FLUSH_INTERVAL_MS", "30000", "BATCH_SIZE", "1000000"))) {
            JarProcess.Load load = tracerboy.load(4, GracefulShutdownIT::query);
            load.awaitAcknowledged(2_000);
            tracerboy.signal(false);
            int status = tracerboy.awaitExit();
            List<Integer> acknowledged = load.awaitClients();

            assertThat(status).as("exit status; log: %s", tracerboy.output()).isZero();
            assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(acknowledged.size());
            assertThat(database.queryLong("SELECT coalesce(sum(clicks + impressions), 0) FROM hourly_stats"))
                    .isEqualTo(acknowledged.size());
            assertThat(tracerboy.output()).anyMatch(line -> line.contains("none lost"));
        }
    }

    @Test
    void sigtermWithTheDatabaseDownGivesUpAfterTheTimeoutSaysHowManyAndExitsOne() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url());
             JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", proxy.proxiedUrl(database.url()),
                     "FLUSH_INTERVAL_MS", "60000", "SHUTDOWN_TIMEOUT_MS", "500"))) {
            proxy.refuse();
            proxy.dropAll();
            JarProcess.Load load = tracerboy.load(1, GracefulShutdownIT::query);
            load.awaitAcknowledged(100);
            tracerboy.signal(false);
            int status = tracerboy.awaitExit();
            List<Integer> acknowledged = load.awaitClients();

            assertThat(status).as("exit status; log: %s", tracerboy.output()).isEqualTo(1);
            assertThat(tracerboy.output()).anyMatch(line -> line.contains("stopped with " + acknowledged.size()
                    + " accepted events not written: the database stayed unreachable for 500 ms"));
        }
    }

    @Test
    void sigtermBeforeTheFirstMigrationKeepsTryingAndWritesEveryAcknowledgedEvent() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url())) {
            proxy.refuse(); // the database is down at boot: the schema cannot be migrated yet
            try (JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", proxy.proxiedUrl(database.url())),
                    false)) {
                for (int n = 0; n < 20; n++) {
                    HttpResponse<Void> answer = tracerboy.http.send(HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + tracerboy.port() + "/analytics?" + query(n)))
                            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
                    assertThat(answer.statusCode()).isEqualTo(204);
                }
                tracerboy.signal(false);
                ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
                try {
                    later.schedule(() -> {
                        proxy.restore();
                        return null;
                    }, 1, TimeUnit.SECONDS); // the database comes back well within SHUTDOWN_TIMEOUT_MS
                    assertThat(tracerboy.awaitExit()).as("exit status; log: %s", tracerboy.output()).isZero();
                } finally {
                    later.shutdownNow();
                }
                assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(20);
                assertThat(tracerboy.output()).anyMatch(line -> line.contains("20 events written in all, none lost"));
            }
        }
    }

    @Test
    void killMinus9InCommittedModeLosesNoAcknowledgedEvent() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", database.url(), "ACK_MODE", "committed",
                     "FLUSH_INTERVAL_MS", "20"))) {
            JarProcess.Load load = tracerboy.load(8, GracefulShutdownIT::query);
            load.awaitAcknowledged(3_000);
            tracerboy.signal(true); // SIGKILL: no shutdown hook, no drain
            assertThat(tracerboy.awaitExit()).isEqualTo(137);
            List<Integer> acknowledged = load.awaitClients();

            Set<String> stored = storedUsers(database);
            assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(3_000);
            for (int n : acknowledged) {
                assertThat(stored).as("acknowledged event %d", n).contains("u" + n);
            }
            // Rows may exceed the 204s (committed, but the answer died with the process), never the reverse.
            assertThat((long) stored.size()).isGreaterThanOrEqualTo(acknowledged.size());
            assertThat(database.queryLong("SELECT sum(clicks + impressions) FROM hourly_stats")).isEqualTo(
                    stored.size());
        }
    }
}
