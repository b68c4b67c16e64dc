package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The TimescaleDB path, against a TimescaleDB-enabled PostgreSQL named by {@code TIMESCALEDB_URL} (its user must be
 * allowed to create databases and the extension). Skipped, saying so, when none is given: TimescaleDB is not packaged
 * for the machines CI runs on.
 */
class TimescaleIT {
    private static final long DAY0 = 1_764_288_000_000L; // 2025-11-28T00:00:00Z

    private static String server() {
        String server = System.getenv("TIMESCALEDB_URL");
        if (server == null || server.isBlank()) {
            System.out.println("TimescaleIT SKIPPED: no TIMESCALEDB_URL given. Set it to a TimescaleDB-enabled "
                    + "PostgreSQL, e.g. TIMESCALEDB_URL='jdbc:postgresql://localhost:5432/postgres?user=postgres"
                    + "&password=…' (docker run -p 5432:5432 -e POSTGRES_PASSWORD=… "
                    + "timescale/timescaledb:2.17.2-pg17; or the timescaledb-2-postgresql-15 package, or "
                    + "tools/timescaledb-for-tests.sh: BENCHMARKS.md, \"Citus and TimescaleDB for the tests\")");
        }
        Assumptions.assumeTrue(server != null && !server.isBlank(),
                "skipped: no TIMESCALEDB_URL given, so the TimescaleDB path was not run");
        return server;
    }

    @Test
    void migratesToHypertablesWithDailyChunksAndCountsExactly() throws Exception {
        try (TestDatabase test = TestDatabase.create(server());
             Database database = new Database(test.url(), null, null, 4)) {
            assertThat(SchemaMigrator.migrate(database, EnginePreference.AUTO).engine())
                    .isEqualTo(StorageEngine.TIMESCALEDB);
            assertThat(test.queryLong("SELECT count(*) FROM timescaledb_information.hypertables "
                    + "WHERE hypertable_name IN ('events', 'hourly_users')")).isEqualTo(2);
            assertThat(test.queryLong("SELECT extract(epoch FROM time_interval)::bigint "
                    + "FROM timescaledb_information.dimensions WHERE hypertable_name = 'events'")).isEqualTo(86_400);

            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 1_000,
                    new RetentionKeeper.Retention(168, 168, 24), System::currentTimeMillis);
            EventBatch batch = new EventBatch(6);
            batch.add(DAY0 + 5, "a\tb", EventKind.CLICK);
            batch.add(DAY0 + 6, "b", EventKind.IMPRESSION);
            batch.add(DAY0 + 7, "a\tb", EventKind.IMPRESSION);
            batch.add(DAY0 + 86_400_000L + 1, "a\tb", EventKind.CLICK); // next day: another chunk
            batch.add(DAY0 - Hours.HOUR_MS, "late", EventKind.CLICK);         // previous day
            batch.add(DAY0 + 8, "\\N", EventKind.CLICK);
            sink.write(batch);
            sink.write(batch); // a retry of the same batch is recognised

            HourlyStats stats = new HourlyStats(database.dataSource());
            assertThat(stats.read(DAY0)).isEqualTo(new HourlyCounts(3, 2, 2));
            assertThat(stats.read(DAY0 + 86_400_000L)).isEqualTo(new HourlyCounts(1, 1, 0));
            assertThat(stats.read(DAY0 - Hours.HOUR_MS)).isEqualTo(new HourlyCounts(1, 1, 0));
            assertThat(test.queryLong("SELECT count(*) FROM events")).isEqualTo(6);
            assertThat(test.queryLong("SELECT count(*) FROM show_chunks('events')")).isEqualTo(3);
        }
    }

    @Test
    void retentionDropsWholeChunksByTheClockAndTheHourlyCountsStay() throws Exception {
        long nowMs = DAY0 + 10 * Hours.HOUR_MS;
        RetentionKeeper.Retention retention = new RetentionKeeper.Retention(48, 48, 24);
        try (TestDatabase test = TestDatabase.create(server());
             Database database = new Database(test.url(), null, null, 4)) {
            StorageEngine engine = SchemaMigrator.migrate(database, EnginePreference.AUTO).engine();
            assertThat(engine).isEqualTo(StorageEngine.TIMESCALEDB);
            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 0, retention, () -> nowMs);
            EventBatch batch = new EventBatch(3);
            batch.add(DAY0 - 3 * 86_400_000L + 5, "old", EventKind.CLICK);
            batch.add(DAY0 - 86_400_000L + 5, "yesterday", EventKind.CLICK);
            batch.add(DAY0 + 5, "today", EventKind.IMPRESSION);
            sink.write(batch);
            assertThat(test.queryLong("SELECT count(*) FROM show_chunks('events')")).isEqualTo(3);

            // Now minus 48 hours and the hour of grace is DAY0 - 39 h: only the chunk of three days ago ended before.
            new RetentionKeeper(database.dataSource(), engine, retention, () -> nowMs).runOnce();
            assertThat(test.queryLong("SELECT count(*) FROM show_chunks('events')")).isEqualTo(2);
            assertThat(test.queryLong("SELECT count(*) FROM show_chunks('hourly_users')")).isEqualTo(2);
            assertThat(test.queryLong("SELECT count(*) FROM events")).isEqualTo(2);
            assertThat(new HourlyStats(database.dataSource()).read(DAY0 - 3 * 86_400_000L))
                    .isEqualTo(new HourlyCounts(1, 1, 0));
        }
    }
}
