package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Event ids are forgotten by time, on a clock the test moves, whatever the traffic: by the writer and the keeper. */
class RetentionKeeperIT {
    private static final long H0 = 1_764_284_400_000L; // 2025-11-27T23:00:00Z, an hour start

    private static EventBatch click(long timestampMs, String user, String id) {
        EventBatch batch = new EventBatch(1);
        batch.add(timestampMs, user, EventKind.CLICK, id);
        return batch;
    }

    @Test
    void anIdIsForgottenOnceItsHourIsPastTheRetentionByTheWriterAtOnceAndByTheKeeperOnItsNextRun() throws Exception {
        AtomicLong nowMs = new AtomicLong(H0 + 10 * 60_000);
        try (TestDatabase testDatabase = TestDatabase.create();
             Database database = new Database(testDatabase.url(), null, null, 2)) {
            StorageEngine engine = SchemaMigrator.migrate(database, EnginePreference.AUTO).engine();
            CopyBatchSink sink = new CopyBatchSink(database.dataSource(), 0, 2, nowMs::get);
            sink.write(click(H0 + 5, "ann", "e-1"));
            sink.write(click(H0 + 5, "ann", "e-1"));
            assertThat(testDatabase.queryLong("SELECT clicks FROM hourly_stats")).isEqualTo(1);

            // Two hours later H0 began two hours ago: past a two-hour retention. The row is still there, but the
            // writer no longer looks at it, so the resend counts.
            nowMs.set(H0 + 2 * Hours.HOUR_MS);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM event_ids")).isEqualTo(1);
            sink.write(click(H0 + 5, "ann", "e-1"));
            assertThat(testDatabase.queryLong("SELECT clicks FROM hourly_stats")).isEqualTo(2);
            assertThat(testDatabase.queryLong("SELECT count(*) FROM event_ids")).isEqualTo(1);

            // An id of the next hour is still remembered; a keeper started now (a restart, no traffic) forgets
            // only what is past the retention.
            sink.write(click(H0 + Hours.HOUR_MS + 5, "bob", "e-2"));
            new RetentionKeeper(database.dataSource(), engine, 2, nowMs::get).runOnce();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM event_ids WHERE event_id = 'e-1'")).isZero();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM event_ids WHERE event_id = 'e-2'")).isEqualTo(1);
            sink.write(click(H0 + Hours.HOUR_MS + 5, "bob", "e-2"));
            assertThat(testDatabase.queryLong("SELECT clicks FROM hourly_stats WHERE hour = to_timestamp("
                    + (H0 + Hours.HOUR_MS) / 1000 + ")")).isEqualTo(1);
        }
    }

    @Test
    void batchIdsOlderThanADayAreForgottenAndNewerOnesKept() throws Exception {
        try (TestDatabase testDatabase = TestDatabase.create();
             Database database = new Database(testDatabase.url(), null, null, 2)) {
            StorageEngine engine = SchemaMigrator.migrate(database, EnginePreference.AUTO).engine();
            new CopyBatchSink(database.dataSource(), 0, 24, () -> H0).write(click(H0, "ann", null));
            try (var connection = database.dataSource().getConnection();
                 var statement = connection.createStatement()) {
                statement.execute("INSERT INTO written_batches (batch_id, committed_at) VALUES "
                        + "(gen_random_uuid(), now() - interval '25 hours')");
            }
            assertThat(testDatabase.queryLong("SELECT count(*) FROM written_batches")).isEqualTo(2);
            new RetentionKeeper(database.dataSource(), engine, 24, () -> H0).runOnce();
            assertThat(testDatabase.queryLong("SELECT count(*) FROM written_batches")).isEqualTo(1);
        }
    }
}
