package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.CopyBatchSink;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.EnginePreference;
import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.storage.SchemaMigrator;
import io.tracerboy.storage.StorageEngine;
import io.tracerboy.testsupport.Reconciler;
import io.tracerboy.testsupport.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * tracerboy on a real Citus cluster (a coordinator and workers), when {@code CITUS_URL} names the coordinator's
 * database (for example from {@code tools/citus-for-tests.sh}); skipped, saying so, everywhere else. The test
 * owns that database's tracerboy tables: it drops them first.
 */
class CitusIT {
    private static final String CITUS_URL = System.getenv("CITUS_URL");
    // Two hours ago: the events of the test span three hours, all within EVENT_ID_RETENTION_HOURS (24).
    private static final long FIRST_HOUR_MS = Hours.startMs(System.currentTimeMillis()) - 2 * Hours.HOUR_MS;

    private static void resetSchema() throws Exception {
        try (Connection db = DriverManager.getConnection(CITUS_URL); Statement statement = db.createStatement()) {
            statement.execute("DROP TABLE IF EXISTS events, hourly_users, hourly_stats, written_batches, dead_letters,"
                    + " event_ids, legacy_event_ids, events_legacy, hourly_users_legacy, request_keys, hourly_sketches,"
                    + " flyway_schema_history CASCADE");
            statement.execute("DROP FUNCTION IF EXISTS prune_event_ids(interval)");
            // The advice for small machines (docs/SCALING.md): few shards; fixed per-statement costs dominate.
            statement.execute("ALTER DATABASE " + db.getCatalog() + " SET citus.shard_count = 4");
        }
    }

    private static String line(long timestampMs, String user, String event, String id) {
        return "{\"timestamp\":" + timestampMs + ",\"user\":\"" + user + "\",\"event\":\"" + event + "\""
                + (id == null ? "" : ",\"id\":\"" + id + "\"") + "}";
    }

    @Test
    void twoReplicasOnCitusCountOverlappingUsersAndResentIdsExactlyInDistributedCoLocatedTables() throws Exception {
        assumeTrue(CITUS_URL != null, "skipped: CITUS_URL is not set (a Citus coordinator's database: Citus's "
                + "packages, the citusdata/citus image or tools/citus-for-tests.sh; BENCHMARKS.md, \"Citus and "
                + "TimescaleDB for the tests\")");
        resetSchema();
        Map<String, String> settings = Map.of("ACK_MODE", "committed", "STORAGE_ENGINE", "citus");
        try (TracerboyServer a = startServer(CITUS_URL, settings); TracerboyServer b = startServer(CITUS_URL,
                settings)) {
            assertThat(a.awaitReady(120_000)).as("replica a ready: %s", a.fatalError()).isTrue();
            assertThat(b.awaitReady(120_000)).as("replica b ready: %s", b.fatalError()).isTrue();

            // Replica a: users 0..59, replica b: users 30..89, in two hours; every third event a click.
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> writers = new ArrayList<>();
                for (TracerboyServer target : List.of(a, b)) {
                    int firstUser = target == a ? 0 : 30;
                    writers.add(pool.submit(() -> {
                        for (int round = 0; round < 5; round++) {
                            int r = round;
                            String body = IntStream.range(0, 120).mapToObj(i -> line(FIRST_HOUR_MS + (i % 2)
                                    * Hours.HOUR_MS + r * 1000L + i, "u" + (firstUser + i % 60),
                                    i % 3 == 0 ? "click" : "impression", null)).collect(Collectors.joining("\n"));
                            HttpResponse<String> answer = TestServers.batch(target, "application/x-ndjson",
                                    body.getBytes(StandardCharsets.UTF_8));
                            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                        }
                        return null;
                    }));
                }
                for (Future<?> writer : writers) {
                    writer.get(120, TimeUnit.SECONDS); // rethrows what a writer failed with
                }
            } finally {
                pool.shutdownNow();
            }
            // The same ten ids through both replicas, twice: counted once.
            String withIds = IntStream.range(0, 10).mapToObj(i -> line(FIRST_HOUR_MS + i, "id-user-" + i, "click",
                    "evt-" + i)).collect(Collectors.joining("\n"));
            for (TracerboyServer target : List.of(a, b, a, b)) {
                assertThat(TestServers.batch(target, "application/x-ndjson", withIds.getBytes(StandardCharsets.UTF_8))
                        .statusCode()).isEqualTo(200);
            }
            assertThat(send(a, "POST", "/analytics?timestamp=" + (FIRST_HOUR_MS + 5) + "&user=id-user-5&event=click"
                    + "&id=evt-5").statusCode()).isEqualTo(204);

            // Per hour: 2 replicas x 5 rounds x 60 events = 600, a third of them clicks; even users (0..88) in the
            // first hour, odd ones (1..89) in the second: 45 each, overlapping between the replicas. The first hour
            // adds the ten id events (clicks, ten more users) once.
            for (int hour = 0; hour < 2; hour++) {
                long hourMs = FIRST_HOUR_MS + hour * Hours.HOUR_MS;
                Reconciler.Counts expected = hour == 0 ? new Reconciler.Counts(55, 210, 400)
                        : new Reconciler.Counts(45, 200, 400);
                for (TracerboyServer target : List.of(a, b)) {
                    assertThat(Reconciler.viaGet("http://127.0.0.1:" + target.port(), hourMs)).as("hour %d", hour)
                            .isEqualTo(expected);
                }
                try (Connection db = DriverManager.getConnection(CITUS_URL)) {
                    assertThat(Reconciler.recount(db, hourMs)).isEqualTo(expected);
                    assertThat(Reconciler.aggregates(db, hourMs)).isEqualTo(expected);
                }
            }
            try (Connection db = DriverManager.getConnection(CITUS_URL); Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery("SELECT logicalrelid::text, partmethod, colocationid,"
                         + " column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition"
                         + " WHERE logicalrelid::text IN ('events', 'hourly_users', 'written_batches',"
                         + " 'hourly_stats', 'hourly_sketches') ORDER BY 1")) {
                Map<String, String> layout = new java.util.TreeMap<>();
                Map<String, Integer> colocation = new java.util.TreeMap<>();
                while (rs.next()) {
                    layout.put(rs.getString(1), rs.getString(2) + ":" + rs.getString(4));
                    colocation.put(rs.getString(1), rs.getInt(3));
                }
                assertThat(layout).containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of(
                        "events", "h:user_id", "hourly_stats", "h:hour", "hourly_sketches", "h:hour",
                        "hourly_users", "h:user_id", "written_batches", "h:batch_id")));
                assertThat(colocation.get("hourly_users")).isEqualTo(colocation.get("events"));
                assertThat(colocation.get("hourly_sketches")).isEqualTo(colocation.get("hourly_stats"));
            }
        }
    }

    @Test
    void insistingOnCitusWhereItIsNotCreatedStopsStartupSayingWhyAndMigratesNothing() throws Exception {
        try (TestDatabase plain = TestDatabase.create();
             TracerboyServer server = startServer(plain.url(), Map.of("STORAGE_ENGINE", "citus"))) {
            assertThat(server.awaitReady(60_000)).isFalse();
            assertThat(server.fatalError()).isEqualTo("STORAGE_ENGINE: expected auto or postgresql, found 'citus', "
                    + "but the citus extension is not created in this database (CREATE EXTENSION citus on the "
                    + "coordinator)");
            assertThat(plain.queryLong("SELECT count(*) FROM pg_tables WHERE tablename = 'events'")).isZero();
        }
    }

    /** The tracerboy day partitions of {@code table} on the coordinator, by name. */
    private static List<String> partitions(Connection db, String table) throws Exception {
        List<String> names = new ArrayList<>();
        try (Statement statement = db.createStatement(); ResultSet rs = statement.executeQuery(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                        + " WHERE i.inhparent = '" + table + "'::regclass ORDER BY 1")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    @Test
    void retentionDropsWholeDaysOfTheDistributedTablesByTheClockAndTheHourlyCountsStay() throws Exception {
        assumeTrue(CITUS_URL != null, "skipped: CITUS_URL is not set (see the first test)");
        resetSchema();
        long day0 = 1_764_201_600_000L; // 2025-11-27T00:00:00Z
        long dayMs = 24 * Hours.HOUR_MS;
        AtomicLong nowMs = new AtomicLong(day0 + 10 * Hours.HOUR_MS);
        RetentionKeeper.Retention retention = new RetentionKeeper.Retention(24, 48, 24);
        try (Database database = new Database(CITUS_URL, null, null, 2);
             Connection db = DriverManager.getConnection(CITUS_URL)) {
            StorageEngine engine = SchemaMigrator.migrate(database, EnginePreference.CITUS).engine();
            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 0, retention, nowMs::get);
            RetentionKeeper keeper = new RetentionKeeper(database.dataSource(), engine, retention, nowMs::get);
            EventBatch first = new EventBatch(1);
            first.add(day0 + 9 * Hours.HOUR_MS, "ann", EventKind.CLICK, "e-1");
            sink.write(first);
            keeper.runOnce();
            nowMs.set(day0 + dayMs + 10 * Hours.HOUR_MS); // the next day
            EventBatch second = new EventBatch(1);
            second.add(nowMs.get() - Hours.HOUR_MS, "bob", EventKind.IMPRESSION);
            sink.write(second);
            keeper.runOnce();
            assertThat(partitions(db, "events")).contains("events_p2025_11_27", "events_p2025_11_28");

            // Two days on, day 0 ended 26 hours ago: past the events' 24 hours and the grace hour, not the users' 48.
            nowMs.set(day0 + 2 * dayMs + 2 * Hours.HOUR_MS);
            keeper.runOnce();
            assertThat(partitions(db, "events")).doesNotContain("events_p2025_11_27").contains("events_p2025_11_28",
                    "events_p2025_11_29", "events_p2025_11_30");
            assertThat(partitions(db, "hourly_users")).contains("hourly_users_p2025_11_27");
            try (Statement statement = db.createStatement()) {
                ResultSet events = statement.executeQuery("SELECT count(*) FROM events");
                events.next();
                assertThat(events.getLong(1)).isEqualTo(1);
                ResultSet stats = statement.executeQuery("SELECT clicks FROM hourly_stats WHERE hour = "
                        + "to_timestamp(" + (day0 + 9 * Hours.HOUR_MS) / 1000 + ")");
                assertThat(stats.next()).isTrue();
                assertThat(stats.getLong(1)).as("the hour's counts outlive its raw events").isEqualTo(1);
            }
        }
    }
}
