package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Database outages caused for real through a TCP proxy; every assertion compares rows with 204s. */
class DatabaseOutageIT {
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(Duration.ofSeconds(60)).until(condition::getAsBoolean);
    }

    private static long rows(TestDatabase database) {
        try {
            return database.queryLong("SELECT count(*) FROM events");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anOutageFillsTheRingThen503sAndTheBacklogDrainsExactlyOnceWhenTheDatabaseReturns() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url());
             TracerboyServer server = startServer(proxy.proxiedUrl(database.url()),
                     Map.of("RING_SIZE", "1024", "BATCH_SIZE", "100", "FLUSH_INTERVAL_MS", "5"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            long acknowledged = 0;
            for (int i = 0; i < 200; i++) {
                assertThat(post(server, i).statusCode()).isEqualTo(204);
                acknowledged++;
            }
            long before = acknowledged;
            await("the first 200 rows", () -> rows(database) == before);

            proxy.refuse();
            proxy.dropAll();
            HttpResponse<String> refused = null;
            for (int i = 200; refused == null; i++) {
                HttpResponse<String> response = post(server, i);
                if (response.statusCode() == 204) {
                    acknowledged++;
                } else {
                    refused = response;
                }
            }
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            // The ring (1024) and the writer's batch in hand (100) hold everything acknowledged during the outage.
            assertThat(acknowledged - 200).isBetween(1024L, 1024L + 100);
            await("writes to be reported failing", () -> server.stats().writesFailing());
            HttpResponse<String> notReady = send(server, "GET", "/readyz");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).isEqualTo("not ready: database writes failing, retrying\n");
            assertThat(rows(database)).isEqualTo(200);

            proxy.restore();
            long total = acknowledged;
            await("the backlog to drain", () -> rows(database) >= total);
            assertThat(rows(database)).isEqualTo(total);
            assertThat(database.queryLong("SELECT clicks + impressions FROM hourly_stats")).isEqualTo(total);
            assertThat(database.queryLong("SELECT count(DISTINCT user_id) FROM events")).isEqualTo(total);
            await("readiness to return", () -> {
                try {
                    return send(server, "GET", "/readyz").statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            });
            assertThat(server.stats().writeFailures()).isPositive();
        }
    }

    @Test
    void connectionsResetOverAndOverUnderLoadLoseNothingAndDuplicateNothing() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url());
             TracerboyServer server = startServer(proxy.proxiedUrl(database.url()),
                     Map.of("BATCH_SIZE", "500", "FLUSH_INTERVAL_MS", "2"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            AtomicLong acknowledged = new AtomicLong();
            AtomicLong unanswered = new AtomicLong();
            AtomicBoolean loading = new AtomicBoolean(true);
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int client = c;
                Thread t = new Thread(() -> {
                    for (int i = 0; loading.get(); i++) {
                        try {
                            if (post(server, client * 10_000_000 + i).statusCode() == 204) {
                                acknowledged.incrementAndGet();
                            }
                        } catch (Exception e) {
                            unanswered.incrementAndGet(); // the server may have accepted it; the client cannot know
                        }
                    }
                });
                clients.add(t);
                t.start();
            }
            // Reset every database connection 30 times while events flow: some resets land mid-COPY, some mid-COMMIT.
            for (int round = 0; round < 30; round++) {
                long target = acknowledged.get() + 300;
                await("more acknowledgements", () -> acknowledged.get() >= target);
                proxy.dropAll();
            }
            loading.set(false);
            for (Thread t : clients) {
                t.join();
            }
            long total = acknowledged.get();
            await("every acknowledged event to be written", () -> rows(database) >= total);
            long stored = rows(database);
            // Every request carries its own user: a duplicate write would show as more rows than users.
            assertThat(database.queryLong("SELECT count(DISTINCT user_id) FROM events")).isEqualTo(stored);
            assertThat(stored).isBetween(total, total + unanswered.get());
            assertThat(database.queryLong("SELECT sum(clicks + impressions) FROM hourly_stats")).isEqualTo(stored);
            assertThat(database.queryLong("SELECT sum(unique_users) FROM hourly_stats")).isEqualTo(stored);
            assertThat(server.stats().writeFailures()).isPositive();
        }
    }

    @Test
    void aGetBeforeTheFirstMigrationSaysSoAtOnceAndNeverWithTheDatabasesWords() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             Connection blocker = DriverManager.getConnection(database.url())) {
            // The database answers, but the migration waits: Flyway's CREATE TABLE of its history table queues behind
            // this uncommitted one of the same name.
            blocker.setAutoCommit(false);
            blocker.createStatement().execute("CREATE TABLE flyway_schema_history (id int)");
            try (TracerboyServer server = startServer(database.url(), Map.of())) {
                HttpResponse<String> get = withTimeout(server, "/analytics", 1);
                assertThat(get.statusCode()).isEqualTo(503);
                assertThat(get.body()).isEqualTo("not ready: schema not migrated yet\n");
                assertThat(get.headers().firstValue("Retry-After")).hasValue("1");
                assertThat(withTimeout(server, "/readyz", 1).body()).isEqualTo("not ready: schema not migrated yet\n");

                blocker.rollback();
                assertThat(server.awaitReady(60_000)).isTrue();
                assertThat(withTimeout(server, "/analytics", 5).statusCode()).isEqualTo(200);
            }
        }
    }

    @Test
    void aLookupTheDatabaseRefusesIsAnsweredWithoutTheDriversWords() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("GET_CACHE_TTL_MS", "0"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            try (Connection admin = DriverManager.getConnection(database.url())) {
                admin.createStatement().execute("ALTER TABLE hourly_stats RENAME TO hourly_stats_away");
            }
            HttpResponse<String> refused = withTimeout(server, "/analytics", 5);
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).isEqualTo("database unavailable: the lookup failed\n");
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
        }
    }

    @Test
    void aGetWhileTheDatabaseIsStalledIsAnsweredByItsDeadlineInOurOwnWords() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url());
             TracerboyServer server = startServer(proxy.proxiedUrl(database.url()), Map.of("GET_CACHE_TTL_MS", "0"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            assertThat(withTimeout(server, "/analytics", 5).statusCode()).isEqualTo(200);

            proxy.stall();
            try {
                // Sent before the probe can have seen the stall: the lookup waits on the silent socket, the client
                // only until the lookup's deadline (or, should the probe be quicker, not at all).
                HttpResponse<String> stalled = withTimeout(server, "/analytics", 5);
                assertThat(stalled.statusCode()).isEqualTo(503);
                assertThat(stalled.headers().firstValue("Retry-After")).hasValue("1");
                assertThat(stalled.body()).isIn("database unavailable: no answer within 1000 ms\n",
                        "database unavailable: unreachable at the last check\n");

                await("the probe to see the stall", () -> {
                    try {
                        return withTimeout(server, "/readyz", 1).body().equals("not ready: database unreachable\n");
                    } catch (Exception e) {
                        return false;
                    }
                });
                HttpResponse<String> known = withTimeout(server, "/analytics", 1);
                assertThat(known.statusCode()).isEqualTo(503);
                assertThat(known.body()).isEqualTo("database unavailable: unreachable at the last check\n");
            } finally {
                proxy.resume(); // a worker still waits on the stalled socket, and a stop would wait for it
            }
            await("GETs to be answered again", () -> {
                try {
                    return withTimeout(server, "/analytics", 5).statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    private static HttpResponse<String> withTimeout(TracerboyServer server, String path, int seconds)
            throws Exception {
        return TestServers.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(seconds)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(TracerboyServer server, int i) throws Exception {
        return send(server, "POST", "/analytics?timestamp=" + (HOUR_START_MS + i % Hours.HOUR_MS) + "&user=u" + i
                + "&event="
                + (i % 2 == 0 ? "click" : "impression"));
    }
}
