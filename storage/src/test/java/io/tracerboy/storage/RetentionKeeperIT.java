package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Retention by the clock the test moves: ids forgotten by the writer at once, days dropped whole by the keeper. */
class RetentionKeeperIT {
    private static final long D0 = 1_764_201_600_000L; // 2025-11-27T00:00:00Z, a day start
    private static final long H0 = D0 + 23 * Hours.HOUR_MS; // 2025-11-27T23:00:00Z, an hour start

    private static EventBatch click(long timestampMs, String user, String id) {
        EventBatch batch = new EventBatch(1);
        batch.add(timestampMs, user, EventKind.CLICK, id);
        return batch;
    }

    @Test
    void anIdIsForgottenOnceItsHourIsPastTheRetentionWhateverTheTableHolds() throws Exception {
        AtomicLong nowMs = new AtomicLong(H0 + 10 * 60_000);
        try (TestDatabase testDatabase = TestDatabase.create();
             Database database = new Database(testDatabase.url(), null, null, 2)) {
            SchemaMigrator.migrate(database, EnginePreference.AUTO);
            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 0, new RetentionKeeper.Retention(168, 168, 2),
                    nowMs::get);
            assertThat(sink.write(click(H0 + 5, "ann", "e-1")).resendCount()).isZero();
            assertThat(sink.write(click(H0 + 5, "ann", "e-1")).resendCount()).isEqualTo(1);
            assertThat(testDatabase.queryLong("SELECT clicks FROM hourly_stats")).isEqualTo(1);

            // Two hours later H0 began two hours ago: past a two-hour retention. The keyed row is still there, but the
            // writer no longer looks for it, so the resend counts, stored without a key.
            nowMs.set(H0 + 2 * Hours.HOUR_MS);
            assertThat(sink.write(click(H0 + 5, "ann", "e-1")).resendCount()).isZero();
            assertThat(testDatabase.queryLong("SELECT clicks FROM hourly_stats")).isEqualTo(2);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM events WHERE event_key IS NULL")).isEqualTo(1);

            // An id of the next hour is still remembered, by a new sink too (a restart).
            CopyBatchSink restarted = new CopyBatchSink(database.dataSource(), 0,
                    new RetentionKeeper.Retention(168, 168, 2), nowMs::get);
            sink.write(click(H0 + Hours.HOUR_MS + 5, "bob", "e-2"));
            assertThat(restarted.write(click(H0 + Hours.HOUR_MS + 5, "bob", "e-2")).resendCount()).isEqualTo(1);
        }
    }

    @Test
    void daysPastRetentionAreDroppedWholeTheNextOnesMadeAheadAndTheCountsStay() throws Exception {
        AtomicLong nowMs = new AtomicLong(D0 + 10 * Hours.HOUR_MS);
        RetentionKeeper.Retention retention = new RetentionKeeper.Retention(24, 48, 24);
        try (TestDatabase testDatabase = TestDatabase.create();
             Database database = new Database(testDatabase.url(), null, null, 2)) {
            StorageEngine engine = SchemaMigrator.migrate(database, EnginePreference.AUTO).engine();
            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 0, retention, nowMs::get);
            RetentionKeeper keeper = new RetentionKeeper(database.dataSource(), engine, retention, nowMs::get);
            sink.write(click(D0 + 9 * Hours.HOUR_MS, "ann", "e-1"));
            keeper.runOnce();
            assertThat(keeper.status().tables()).extracting(PartitionStatus::table)
                    .containsExactly("events", "hourly_users", "request_keys");
            assertThat(keeper.status().tables().get(0).oldestMs()).isEqualTo(D0);

            nowMs.set(D0 + TimePartitions.DAY_MS + 10 * Hours.HOUR_MS); // the next day
            sink.write(click(nowMs.get() - Hours.HOUR_MS, "bob", null));
            keeper.runOnce();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM events")).isEqualTo(2);

            // Two days on, day 0 ended 26 hours ago: past the events' 24 hours and the grace hour, not the users' 48.
            nowMs.set(D0 + 2 * TimePartitions.DAY_MS + 2 * Hours.HOUR_MS);
            keeper.runOnce();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM events")).isEqualTo(1);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM hourly_users")).isEqualTo(2);
            assertThat(keeper.status().tables().get(0).oldestMs()).isEqualTo(D0 + TimePartitions.DAY_MS);
            try (var connection = database.dataSource().getConnection()) {
                assertThat(CatalogPartitions.partitions(connection, "events")).extracting(
                        CatalogPartitions.Partition::name).doesNotContain("events_p2025_11_27")
                        .contains("events_p2025_11_28", "events_p2025_11_29", "events_p2025_11_30",
                                "events_p2025_12_01");
            }
            // The hour of day 0 still answers its exact counts: hourly_stats is kept forever.
            assertThat(new HourlyStats(database.dataSource()).read(D0 + 9 * Hours.HOUR_MS))
                    .isEqualTo(new HourlyCounts(1, 1, 0));

            // A late event for the dropped day: no partition is made for it again; it is refused for want of one.
            assertThat(org.assertj.core.api.Assertions.catchThrowable(
                    () -> sink.write(click(D0 + 9 * Hours.HOUR_MS, "late", null))))
                    .isInstanceOf(java.sql.SQLException.class).hasMessageContaining("no partition");
        }
    }

    @Test
    void batchIdsOlderThanADayAreForgottenAndNewerOnesKept() throws Exception {
        try (TestDatabase testDatabase = TestDatabase.create();
             Database database = new Database(testDatabase.url(), null, null, 2)) {
            StorageEngine engine = SchemaMigrator.migrate(database, EnginePreference.AUTO).engine();
            RetentionKeeper.Retention retention = new RetentionKeeper.Retention(168, 168, 24);
            long nowMs = System.currentTimeMillis();
            new CopyBatchSink(database.dataSource(), 0, retention, () -> nowMs).write(click(nowMs, "ann", null));
            try (var connection = database.dataSource().getConnection();
                 var statement = connection.createStatement()) {
                statement.execute("INSERT INTO written_batches (batch_id, committed_at) VALUES "
                        + "(gen_random_uuid(), now() - interval '25 hours')");
            }
            assertThat(testDatabase.queryLong("SELECT count(*) FROM written_batches")).isEqualTo(2);
            new RetentionKeeper(database.dataSource(), engine, retention, () -> nowMs).runOnce();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM written_batches")).isEqualTo(1);
        }
    }
}
