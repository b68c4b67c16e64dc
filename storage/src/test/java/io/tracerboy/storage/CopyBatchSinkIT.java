package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.TransientWriteException;
import io.tracerboy.ingest.WriteOutcome;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class CopyBatchSinkIT {
    private static final long H0 = 1_764_284_400_000L; // 2025-11-27T23:00:00Z, an hour start
    /** What the sinks' clock reads: the events' own time, so the memory of committed users is in play. */
    private static final long NOW_MS = H0 + 30 * 60_000;

    @RegisterExtension
    static final MigratedDatabase DB = new MigratedDatabase(8);

    /** A sink on the test's database whose clock reads {@link #NOW_MS}. */
    private static CopyBatchSink sink(long userCachePairs) {
        return new CopyBatchSink(DB.dataSource(), userCachePairs, new RetentionKeeper.Retention(168, 168, 24),
                () -> NOW_MS);
    }

    /**
     * Counts every (hour, user) pair a sink sends to {@code hourly_users}, inserted or not: a BEFORE INSERT row trigger
     * fires for each row proposed, also those {@code ON CONFLICT DO NOTHING} then skips. Closing removes it.
     */
    private static final class PairsSent implements AutoCloseable {
        PairsSent() throws SQLException {
            execute("CREATE TABLE pairs_sent (n bigint NOT NULL); INSERT INTO pairs_sent VALUES (0);"
                    + " CREATE FUNCTION count_pair_sent() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN UPDATE pairs_sent SET n = n + 1; RETURN NEW; END $$;"
                    + " CREATE TRIGGER count_pairs_sent BEFORE INSERT ON hourly_users FOR EACH ROW"
                    + " EXECUTE FUNCTION count_pair_sent()");
        }

        long count() throws Exception {
            return DB.queryLong("SELECT n FROM pairs_sent");
        }

        @Override
        public void close() throws SQLException {
            execute("DROP TRIGGER count_pairs_sent ON hourly_users; DROP FUNCTION count_pair_sent();"
                    + " DROP TABLE pairs_sent");
        }

        private static void execute(String sql) throws SQLException {
            try (Connection connection = DB.dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute(sql);
            }
        }
    }

    private static EventBatch batch(long timestampMs, EventKind kind, String... users) {
        EventBatch batch = new EventBatch(users.length);
        for (String user : users) {
            batch.add(timestampMs, user, kind);
        }
        return batch;
    }

    @Test
    void copiesAwkwardUserIdsExactlyAsSent() throws Exception {
        List<String> users = List.of("a\tb", "a\nb", "a b", "\\N", "a\\b", "\"quoted\"", "comma,separated", "it's",
                "a\rb", "é😀", "x".repeat(256), "\\.", "NULL");
        CopyBatchSink sink = sink(1_000);
        sink.write(batch(H0 + 1234, EventKind.IMPRESSION, users.toArray(String[]::new)));

        List<String> stored = new ArrayList<>();
        try (Connection connection = DB.dataSource().getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT user_id, kind, (extract(epoch FROM ts) * 1000)::bigint "
                     + "FROM events")) {
            while (rs.next()) {
                stored.add(rs.getString(1));
                assertThat(rs.getShort(2)).isEqualTo(EventKind.IMPRESSION.code());
                assertThat(rs.getLong(3)).isEqualTo(H0 + 1234);
            }
        }
        assertThat(stored).containsExactlyInAnyOrderElementsOf(users);
        assertThat(new HourlyStats(DB.dataSource()).read(H0))
                .isEqualTo(new HourlyCounts(users.size(), 0, users.size()));
    }

    @Test
    void countsEachHourExactlyIncludingLateEventsAndRepeatedUsers() throws Exception {
        CopyBatchSink sink = sink(1_000);
        sink.write(batch(H0 + 10, EventKind.CLICK, "alice", "bob", "alice"));
        sink.write(batch(H0 + Hours.HOUR_MS - 1, EventKind.IMPRESSION, "alice", "carol"));
        sink.write(batch(H0 + Hours.HOUR_MS, EventKind.CLICK, "alice"));
        // late events, three hours back, mixed into one batch with current ones
        EventBatch mixed = new EventBatch(4);
        mixed.add(H0 - 3 * Hours.HOUR_MS + 5, "dave", EventKind.IMPRESSION);
        mixed.add(H0 + 20, "dave", EventKind.IMPRESSION);
        mixed.add(H0 - 3 * Hours.HOUR_MS + 6, "dave", EventKind.CLICK);
        mixed.add(H0 + 30, "bob", EventKind.CLICK);
        sink.write(mixed);

        HourlyStats stats = new HourlyStats(DB.dataSource());
        assertThat(stats.read(H0)).isEqualTo(new HourlyCounts(4, 4, 3));
        assertThat(stats.read(H0 + Hours.HOUR_MS)).isEqualTo(new HourlyCounts(1, 1, 0));
        assertThat(stats.read(H0 - 3 * Hours.HOUR_MS)).isEqualTo(new HourlyCounts(1, 1, 1));
        assertThat(stats.read(H0 - Hours.HOUR_MS)).isEqualTo(HourlyCounts.ZERO);
    }

    @Test
    void usersAlreadyCommittedInAnHourAroundNowAreNotSentAgainAndStillCountExactly() throws Exception {
        long lateHour = H0 - (CommittedUsers.PAST_HOURS + 1) * Hours.HOUR_MS;
        try (PairsSent sent = new PairsSent()) {
            CopyBatchSink sink = sink(1_000);
            sink.write(batch(H0 + 1, EventKind.CLICK, "a", "b", "c"));
            assertThat(sent.count()).isEqualTo(3);
            sink.write(batch(H0 + 2, EventKind.IMPRESSION, "a", "b", "c"));
            assertThat(sent.count()).as("a second batch of the same users sends no pair").isEqualTo(3);
            sink.write(batch(H0 + 3, EventKind.CLICK, "c", "d"));
            assertThat(sent.count()).as("only the new user's pair").isEqualTo(4);
            // An hour outside the window around now is not remembered: its pairs go every time, the index decides.
            sink.write(batch(lateHour + 1, EventKind.CLICK, "a"));
            sink.write(batch(lateHour + 2, EventKind.CLICK, "a"));
            assertThat(sent.count()).isEqualTo(6);
            // Another process knows nothing of this one's commits: it sends the pair and the index decides.
            sink(1_000).write(batch(H0 + 4, EventKind.CLICK, "a"));
            assertThat(sent.count()).isEqualTo(7);
        }
        HourlyStats stats = new HourlyStats(DB.dataSource());
        assertThat(stats.read(H0)).isEqualTo(new HourlyCounts(4, 6, 3));
        assertThat(stats.read(lateHour)).isEqualTo(new HourlyCounts(1, 2, 0));
        assertThat(DB.queryLong("SELECT count(*) FROM hourly_users")).isEqualTo(5);
    }

    @Test
    void countsUsersExactlyWhenTheProcessForgetsWhatItCommitted() throws Exception {
        // cache off: every pair goes to the database, which alone decides
        CopyBatchSink sink = sink(0);
        sink.write(batch(H0, EventKind.CLICK, "a", "b"));
        sink.write(batch(H0, EventKind.CLICK, "b", "c"));
        assertThat(new HourlyStats(DB.dataSource()).read(H0)).isEqualTo(new HourlyCounts(3, 4, 0));
    }

    /** Builds writer {@code writer}'s batch number {@code b}. */
    private interface BatchOfWriter {
        EventBatch build(int writer, int b);
    }

    /** Two writers, each with a sink of its own, write {@code batches} batches at once; answers their outcomes. */
    private static List<WriteOutcome> writeConcurrently(int batches, BatchOfWriter batchOfWriter) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<WriteOutcome> written = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    CopyBatchSink sink = sink(1_000_000);
                    for (int b = 0; b < batches; b++) {
                        written.add(sink.write(batchOfWriter.build(writer, b)));
                    }
                    return null;
                }));
            }
            for (Future<?> writer : writers) {
                writer.get();
            }
        } finally {
            pool.shutdown();
        }
        return written;
    }

    @Test
    void twoWritersWithOverlappingUsersCountEachUserOnce() throws Exception {
        int batches = 40;
        int usersPerBatch = 500;
        writeConcurrently(batches, (writer, b) -> {
            EventBatch batch = new EventBatch(usersPerBatch);
            for (int u = 0; u < usersPerBatch; u++) {
                // users 0..2999 overlap between the writers, in different orders and batches
                int user = (writer == 0 ? b * 97 + u * 31 : b * 61 + u * 17) % 3_000;
                long ts = H0 + (b % 2) * Hours.HOUR_MS + u;
                batch.add(ts, "user-" + user, u % 3 == 0 ? EventKind.CLICK : EventKind.IMPRESSION);
            }
            return batch;
        });
        HourlyStats stats = new HourlyStats(DB.dataSource());
        for (long hour : new long[] {H0, H0 + Hours.HOUR_MS}) {
            String where = " FROM events WHERE ts >= to_timestamp(" + hour / 1000 + ") AND ts < to_timestamp("
                    + (hour + Hours.HOUR_MS) / 1000 + ")";
            HourlyCounts expected = new HourlyCounts(
                    DB.queryLong("SELECT count(DISTINCT user_id)" + where),
                    DB.queryLong("SELECT count(*)" + where + " AND kind = 0"),
                    DB.queryLong("SELECT count(*)" + where + " AND kind = 1"));
            assertThat(stats.read(hour)).isEqualTo(expected);
            assertThat(expected.clicks() + expected.impressions()).isEqualTo(2L * batches / 2 * usersPerBatch);
        }
    }

    @Test
    void twoWritersSendingTheSameEventIdsStoreAndCountEachOnce() throws Exception {
        int batches = 30;
        int eventsPerBatch = 400;
        List<WriteOutcome> written = writeConcurrently(batches, (writer, b) -> {
            EventBatch batch = new EventBatch(eventsPerBatch);
            for (int e = 0; e < eventsPerBatch; e++) {
                // ids 0..5999 overlap between the writers, in different orders; each id has one content
                int id = (writer == 0 ? b * eventsPerBatch + e : 11_999 - (b * eventsPerBatch + e)) % 6_000;
                batch.add(H0 + id % 2 * Hours.HOUR_MS + id, "user-" + id % 1_000,
                        id % 3 == 0 ? EventKind.CLICK : EventKind.IMPRESSION, "id-" + id);
            }
            return batch;
        });
        long resends = written.stream().mapToLong(WriteOutcome::resendCount).sum();
        assertThat(DB.queryLong("SELECT count(*) FROM events")).isEqualTo(6_000);
        assertThat(DB.queryLong("SELECT count(*) FROM events WHERE event_key IS NOT NULL")).isEqualTo(6_000);
        assertThat(resends).isEqualTo(2L * batches * eventsPerBatch - 6_000);
        assertThat(DB.queryLong("SELECT sum(clicks + impressions) FROM hourly_stats")).isEqualTo(6_000);
        assertThat(DB.queryLong("SELECT sum(unique_users) FROM hourly_stats"))
                .isEqualTo(DB.queryLong("SELECT count(*) FROM (SELECT DISTINCT date_trunc('hour', ts), "
                        + "user_id FROM events) pairs"));
    }

    @Test
    void aBatchRetriedAfterItsCommitIsNotWrittenTwice() throws Exception {
        CopyBatchSink sink = sink(1_000);
        EventBatch batch = batch(H0, EventKind.CLICK, "a", "b");
        sink.write(batch);
        sink.write(batch); // same id: as if the COMMIT reply had been lost and the writer retried
        assertThat(DB.queryLong("SELECT count(*) FROM events")).isEqualTo(2);
        assertThat(new HourlyStats(DB.dataSource()).read(H0)).isEqualTo(new HourlyCounts(2, 2, 0));
    }

    @Test
    void storesDeadLettersWithTheirReason() throws Exception {
        CopyBatchSink sink = sink(1_000);
        sink.deadLetter(batch(H0 + 7, EventKind.CLICK, "bad\tuser"), "23514 violates check constraint");
        assertThat(DB.queryLong("SELECT count(*) FROM dead_letters WHERE ts_ms = " + (H0 + 7)
                + " AND convert_from(user_id, 'UTF8') = E'bad\\tuser' AND reason LIKE '23514%'")).isEqualTo(1);
    }

    @Test
    void anUnreachableDatabaseIsATransientFailure() {
        try (Database nowhere = new Database("jdbc:postgresql://127.0.0.1:1/none", "x", "y", 1)) {
            CopyBatchSink sink = new CopyBatchSink(nowhere.dataSource(), 1_000,
                    new RetentionKeeper.Retention(168, 168, 24), System::currentTimeMillis);
            assertThatThrownBy(() -> sink.write(batch(H0, EventKind.CLICK, "a")))
                    .isInstanceOf(TransientWriteException.class);
        }
    }
}
