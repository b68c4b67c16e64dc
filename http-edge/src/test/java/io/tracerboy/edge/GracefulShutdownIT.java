package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.JarProcess;
import io.tracerboy.testsupport.PostLoad;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The real jar as a child process under load: SIGTERM, and kill -9 in committed mode; rows are counted against 204s.
 */
class GracefulShutdownIT {
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;
    private static final String STOPPING = "stopping: refusing new events, writing buffered ones";
    private static final String MIGRATED = "schema migrated";

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

    /** What {@code /readyz} answers, or why nothing does. */
    private static String readiness(JarProcess tracerboy) throws InterruptedException {
        try {
            return tracerboy.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tracerboy.port()
                    + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).body().trim();
        } catch (java.io.IOException e) {
            return "no answer: " + e;
        }
    }

    private static int firstLineWith(List<String> log, String text) {
        for (int i = 0; i < log.size(); i++) {
            if (log.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void sigtermUnderLoadWritesEveryAcknowledgedEventAndExitsZero() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             // Long linger and huge batches: at SIGTERM most acknowledged events are still only in memory.
             JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", database.url(),
                     "FLUSH_INTERVAL_MS", "30000", "BATCH_SIZE", "1000000"))) {
            PostLoad load = PostLoad.start(tracerboy, 4, GracefulShutdownIT::query);
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
            PostLoad load = PostLoad.start(tracerboy, 1, GracefulShutdownIT::query);
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
    void stoppingWithTheDatabaseDownAndTheRingFullNeverLogsThatItAcceptsAgain() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url());
             JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", proxy.proxiedUrl(database.url()),
                     "RING_SIZE", "64", "BATCH_SIZE", "8", "SHUTDOWN_TIMEOUT_MS", "500"))) {
            proxy.refuse();
            proxy.dropAll();
            // One client posts until the ring is full and it gets its first 503.
            PostLoad load = PostLoad.start(tracerboy, 1, GracefulShutdownIT::query);
            List<Integer> acknowledged = load.awaitClients();
            // The client's 503 can arrive before the process's output reader has taken the line that says why.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(tracerboy.output())
                    .anyMatch(line -> line.contains("ring full (64 events waiting)")));
            tracerboy.signal(false);
            assertThat(tracerboy.awaitExit()).as("exit status; log: %s", tracerboy.output()).isEqualTo(1);

            List<String> log = tracerboy.output();
            assertThat(log).anyMatch(line -> line.contains("stopped with " + acknowledged.size()
                    + " accepted events not written"));
            // Abandoned at the deadline, the ring empties while the service refuses every event: say that.
            assertThat(log).as("the log").anyMatch(line -> line.contains("ring draining: ")
                    && line.contains("slots in use; not accepting events: shutting down"))
                    .noneMatch(line -> line.contains("accepting again"));
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
                // The case under test: the stop has begun (logged, and readiness says so) before the schema could be
                // migrated. Only then does the database come back, well within SHUTDOWN_TIMEOUT_MS.
                await().atMost(Duration.ofSeconds(30))
                        .failFast("the jar exited before the database came back", () -> !tracerboy.isAlive())
                        .until(() -> tracerboy.output().stream().anyMatch(line -> line.contains(STOPPING))
                                && readiness(tracerboy).equals("not ready: shutting down"));
                assertThat(tracerboy.output()).noneMatch(line -> line.contains(MIGRATED));
                proxy.restore();
                assertThat(tracerboy.awaitExit()).as("exit status; log: %s", tracerboy.output()).isZero();
                assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(20);
                List<String> log = tracerboy.output();
                assertThat(log).anyMatch(line -> line.contains("20 events written in all, none lost"));
                assertThat(firstLineWith(log, STOPPING)).as("the stop began before the migration; log: %s", log)
                        .isNotNegative().isLessThan(firstLineWith(log, MIGRATED));
            }
        }
    }

    @Test
    void killMinus9InCommittedModeLosesNoAcknowledgedEvent() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", database.url(), "ACK_MODE", "committed",
                     "FLUSH_INTERVAL_MS", "20"))) {
            PostLoad load = PostLoad.start(tracerboy, 8, GracefulShutdownIT::query);
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
