package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.TransientWriteException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Random;
import org.apache.datasketches.hll.HllSketch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hourly sketches the writer keeps, read back by {@link HourlySeries} when a range is not counted exactly: the
 * estimate over a week stays within its stated bound of {@code count(DISTINCT)}, is labelled an estimate, and unions
 * the rows of several writers; a range with neither users nor sketches left is unknown, never a number.
 */
class HourlySketchesIT {
    /** Half past an hour of today: a week of hours before it is within the sinks' retention. */
    private static final long NOW_MS = Hours.startMs(System.currentTimeMillis()) + 30 * 60_000;
    private static final long WEEK_START_MS = Hours.startMs(NOW_MS) - 167 * Hours.HOUR_MS;
    private static final RetentionKeeper.Retention KEPT = new RetentionKeeper.Retention(168, 168, 24);

    @RegisterExtension
    static final MigratedDatabase DB = new MigratedDatabase(4);

    @Test
    void aWeekEstimatedFromSketchesIsWithinItsStatedErrorOfTheExactCount() throws Exception {
        CopyBatchSink sink = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);
        Random random = new Random(7);
        for (int hour = 0; hour < 168; hour++) {
            EventBatch batch = new EventBatch(500);
            for (int i = 0; i < 500; i++) {
                batch.add(WEEK_START_MS + hour * Hours.HOUR_MS + random.nextInt(3_600_000 - 1),
                        "user-" + random.nextInt(40_000), EventKind.IMPRESSION);
            }
            sink.write(batch);
        }
        long[] week = {WEEK_START_MS, WEEK_START_MS + 168 * Hours.HOUR_MS};
        long exact = DB.queryLong("SELECT count(DISTINCT user_id) FROM hourly_users");
        assertThat(exact).isGreaterThan(30_000); // past the sketch's exact warm-up: a real estimate

        HourlySeries.Uniques counted = new HourlySeries(DB.dataSource(), 168).read(week, NOW_MS,
                HourlySeries.EXACT_MAX_PAIRS_ASKED).total()
                .uniques();
        assertThat(counted).isEqualTo(new HourlySeries.Uniques(HourlySeries.Method.EXACT, exact, exact, exact))
                .as("at most 84 000 pairs: counted exactly");

        HourlySeries.Uniques estimated = new HourlySeries(DB.dataSource(), 168).read(week, NOW_MS, 0).total()
                .uniques();
        assertThat(estimated.method()).isEqualTo(HourlySeries.Method.ESTIMATE);
        assertThat((double) Math.abs(estimated.value() - exact)).isLessThanOrEqualTo(
                HourlySeries.RELATIVE_ERROR_BOUND * exact);
        assertThat(estimated.lower()).isLessThanOrEqualTo(exact);
        assertThat(estimated.upper()).isGreaterThanOrEqualTo(exact);
        assertThat(DB.queryLong("SELECT count(*) FROM hourly_sketches")).isEqualTo(168);

        // Once the week's users are past retention (as read two weeks later), the sketches still answer.
        HourlySeries.Uniques later = new HourlySeries(DB.dataSource(), 168)
                .read(week, NOW_MS + 14 * 24 * Hours.HOUR_MS, HourlySeries.EXACT_MAX_PAIRS_ASKED).total().uniques();
        assertThat(later).isEqualTo(estimated);
    }

    @Test
    void theRowsOfEveryWriterOfAnHourAreUnited() throws Exception {
        long hourMs = Hours.startMs(NOW_MS);
        // Two replicas, or one before and after a restart: two writers, overlapping users.
        CopyBatchSink first = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);
        CopyBatchSink second = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);
        first.write(batch(hourMs, 0, 3_000));
        second.write(batch(hourMs, 2_000, 5_000));
        first.write(batch(hourMs - Hours.HOUR_MS, 0, 10));
        first.write(batch(hourMs, 4_000, 6_000)); // its own row again, users added
        assertThat(DB.queryLong("SELECT count(*) FROM hourly_sketches WHERE hour = to_timestamp("
                + hourMs / 1000 + ")")).isEqualTo(2);

        long[] twoHours = {hourMs - Hours.HOUR_MS, hourMs + Hours.HOUR_MS};
        HourlySeries.Uniques estimated = new HourlySeries(DB.dataSource(), 168).read(twoHours, NOW_MS, 0)
                .total().uniques();
        assertThat(estimated.method()).isEqualTo(HourlySeries.Method.ESTIMATE);
        assertThat((double) Math.abs(estimated.value() - 6_000)).isLessThanOrEqualTo(
                HourlySeries.RELATIVE_ERROR_BOUND * 6_000);
        assertThat(estimated.lower()).isLessThanOrEqualTo(6_000);
        assertThat(estimated.upper()).isGreaterThanOrEqualTo(6_000);
    }

    @Test
    void aBatchWhoseTransactionFailedLeavesNoUsersInTheSketch() throws Exception {
        long hourMs = Hours.startMs(NOW_MS);
        CopyBatchSink sink = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);
        sink.write(batch(hourMs, 0, 100));
        execute("CREATE FUNCTION refuse_sketch() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$ BEGIN RAISE EXCEPTION 'refused for the test' USING ERRCODE = '40001'; END $$;"
                + " CREATE TRIGGER refuse_sketch BEFORE UPDATE ON hourly_sketches FOR EACH ROW"
                + " EXECUTE FUNCTION refuse_sketch()");
        assertThatThrownBy(() -> sink.write(batch(hourMs, 1_000, 1_100)))
                .isInstanceOf(TransientWriteException.class).hasMessageContaining("refused for the test");
        execute("DROP TRIGGER refuse_sketch ON hourly_sketches; DROP FUNCTION refuse_sketch()");
        sink.write(batch(hourMs, 2_000, 2_100));
        // 200 users stored; 300 if the failed batch's had reached the sketch (few enough to be counted exactly).
        // Read the row itself: a series would clamp a wrong estimate to the hour's exact count.
        try (Connection connection = DB.dataSource().getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT sketch FROM hourly_sketches")) {
            assertThat(rs.next()).isTrue();
            assertThat(Math.round(HllSketch.heapify(rs.getBytes(1)).getEstimate())).isEqualTo(200);
            assertThat(rs.next()).isFalse();
        }
    }

    private static void execute(String sql) throws Exception {
        try (Connection connection = DB.dataSource().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    @Test
    void aRangeWhoseUsersAreGoneAndWhichHasNoSketchesIsUnknown() throws Exception {
        long hourMs = Hours.startMs(NOW_MS) - 2 * Hours.HOUR_MS;
        CopyBatchSink sink = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS, false);
        sink.write(batch(hourMs, 0, 100));
        sink.write(batch(hourMs + Hours.HOUR_MS, 50, 150));
        long[] range = {hourMs, hourMs + Hours.HOUR_MS, hourMs + 2 * Hours.HOUR_MS};
        HourlySeries.Series exact = new HourlySeries(DB.dataSource(), 168).read(range, NOW_MS,
                HourlySeries.EXACT_MAX_PAIRS);
        assertThat(exact.total().uniques()).isEqualTo(new HourlySeries.Uniques(HourlySeries.Method.EXACT, 150, 150,
                150));
        HourlySeries.Series gone = new HourlySeries(DB.dataSource(), 1).read(range, NOW_MS,
                HourlySeries.EXACT_MAX_PAIRS);
        assertThat(gone.total().uniques().method()).isEqualTo(HourlySeries.Method.UNKNOWN);
        assertThat(gone.buckets().get(0).uniques()).isEqualTo(new HourlySeries.Uniques(HourlySeries.Method.EXACT,
                100, 100, 100));
    }

    /** Impressions of users {@code user-from} .. {@code user-(to - 1)} in the hour starting at {@code hourMs}. */
    private static EventBatch batch(long hourMs, int from, int to) {
        EventBatch batch = new EventBatch(to - from);
        for (int user = from; user < to; user++) {
            batch.add(hourMs + user % 3_600_000, "user-" + user, EventKind.IMPRESSION);
        }
        return batch;
    }
}
