package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.migration.V2__Hypertables;
import io.tracerboy.storage.migration.V3__EventIds;
import io.tracerboy.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * A database built by the migrations before time partitions (V1 to V3), filled as that writer filled it, upgrades in
 * place: every row and every count kept, the old ids still counted once, the old tables kept whole as partitions.
 */
class UpgradeIT {
    private static final long NOW_MS = System.currentTimeMillis();
    private static final long HOUR_MS = Hours.startMs(NOW_MS) - 2 * Hours.HOUR_MS;
    private static final long OLD_HOUR_MS = HOUR_MS - 28 * Hours.HOUR_MS;
    private static final long FUTURE_MS = NOW_MS + 3 * TimePartitions.DAY_MS;

    private static String at(long ms) {
        return "to_timestamp(" + ms / 1000.0 + ")";
    }

    /** What the writer of V3 stored for: ann and bob in HOUR_MS (ann's with id old-1), ann in OLD_HOUR_MS, a future. */
    private static void fillAsTheOldWriterDid(Connection connection) throws Exception {
        try (Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO events VALUES (" + at(HOUR_MS + 5) + ", 'ann', 0), (" + at(HOUR_MS + 6)
                    + ", 'bob', 1), (" + at(OLD_HOUR_MS + 7) + ", 'ann', 1), (" + at(FUTURE_MS) + ", 'cat', 0)");
            statement.execute("INSERT INTO hourly_users VALUES (" + at(HOUR_MS) + ", 'ann'), (" + at(HOUR_MS)
                    + ", 'bob'), (" + at(OLD_HOUR_MS) + ", 'ann'), (" + at(Hours.startMs(FUTURE_MS)) + ", 'cat')");
            statement.execute("INSERT INTO hourly_stats VALUES (" + at(HOUR_MS) + ", 2, 1, 1), (" + at(OLD_HOUR_MS)
                    + ", 1, 0, 1), (" + at(Hours.startMs(FUTURE_MS)) + ", 1, 1, 0)");
            statement.execute("INSERT INTO event_ids VALUES (" + at(HOUR_MS) + ", 'old-1')");
        }
    }

    private static EventBatch click(long timestampMs, String user, String id) {
        EventBatch batch = new EventBatch(1);
        batch.add(timestampMs, user, EventKind.CLICK, id);
        return batch;
    }

    @Test
    void aDatabaseOfTheEarlierSchemaUpgradesInPlaceKeepingEveryRowEveryCountAndEveryId() throws Exception {
        try (TestDatabase testDatabase = TestDatabase.create();
             Database database = new Database(testDatabase.url(), null, null, 2)) {
            Flyway.configure().dataSource(database.dataSource()).locations("classpath:db/migration")
                    .javaMigrations(new V2__Hypertables(() -> new StorageEngine.Choice(StorageEngine.POSTGRESQL,
                            "the test")), new V3__EventIds()).target("3").load().migrate();
            try (Connection connection = database.dataSource().getConnection()) {
                fillAsTheOldWriterDid(connection);
            }

            assertThat(SchemaMigrator.migrate(database, EnginePreference.AUTO).engine())
                    .isEqualTo(StorageEngine.POSTGRESQL);

            assertThat(testDatabase.queryLong("SELECT count(*) FROM events")).isEqualTo(4);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM hourly_users")).isEqualTo(4);
            assertThat(testDatabase.queryLong("SELECT sum(unique_users + clicks + impressions) FROM hourly_stats"))
                    .isEqualTo(8);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM events_legacy")).as("kept where it was")
                    .isEqualTo(3);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM " + TimePartitions.partitionName("events",
                    TimePartitions.dayStartMs(FUTURE_MS)))).as("the future row moved to its day").isEqualTo(1);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM legacy_event_ids")).isEqualTo(1);

            AtomicLong nowMs = new AtomicLong(NOW_MS);
            RetentionKeeper.Retention retention = new RetentionKeeper.Retention(168, 168, 24);
            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 0, retention, nowMs::get);
            // old-1 was counted before the upgrade, by (hour, id): sent again in that hour, it is a resend.
            assertThat(sink.write(click(HOUR_MS + 5, "ann", "old-1")).resendCount()).isEqualTo(1);
            assertThat(sink.write(click(HOUR_MS + 9, "dan", "new-1")).resendCount()).isZero();
            assertThat(sink.write(click(HOUR_MS + 9, "dan", "new-1")).resendCount()).isEqualTo(1);
            assertThat(new HourlyStats(database.dataSource()).read(HOUR_MS)).isEqualTo(new HourlyCounts(3, 2, 1));
            // ann counted in OLD_HOUR_MS before the upgrade is not counted again there.
            sink.write(click(OLD_HOUR_MS + 99, "ann", null));
            assertThat(new HourlyStats(database.dataSource()).read(OLD_HOUR_MS)).isEqualTo(new HourlyCounts(1, 1, 1));

            // Once the newest legacy id is past retention, the keeper drops the table and the writer never asks it.
            RetentionKeeper keeper = new RetentionKeeper(database.dataSource(), StorageEngine.POSTGRESQL, retention,
                    nowMs::get);
            keeper.runOnce();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM pg_class WHERE relname = 'legacy_event_ids'"))
                    .isEqualTo(1);
            nowMs.set(HOUR_MS + 27 * Hours.HOUR_MS);
            keeper.runOnce();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM pg_class WHERE relname = 'legacy_event_ids'"))
                    .isZero();
            new CopyBatchSink(database.dataSource(), 0, retention, nowMs::get).write(click(nowMs.get(), "eve", "x"));
        }
    }
}
