package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link HourlySeries} answering from {@link RecentHours} on a real PostgreSQL, on a nanosecond clock the test moves:
 * this process's commits are in the next answer at once, another replica's (a sink that does not publish) once the
 * time-to-live has passed and not before (so the answer did come from memory), and every answer, estimates included,
 * is the one a read of the database in one snapshot gives.
 */
class SeriesFromMemoryIT {
    private static final long NOW_MS = Hours.startMs(System.currentTimeMillis()) + 30 * 60_000;
    private static final long HOUR_MS = Hours.startMs(NOW_MS);
    private static final long[] DAY = boundaries(HOUR_MS - 23 * Hours.HOUR_MS, 24);
    private static final long TTL = TimeUnit.MILLISECONDS.toNanos(50);
    private static final RetentionKeeper.Retention KEPT = new RetentionKeeper.Retention(168, 168, 24);

    @RegisterExtension
    static final MigratedDatabase DB = new MigratedDatabase(4);

    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final RecentHours recent = new RecentHours(nanos::get, TTL);

    @Test
    void thisProcesssCommitsShowAtOnceAnotherReplicasOnceTheTtlHasPassed() throws Exception {
        CopyBatchSink own = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS, true, recent);
        CopyBatchSink otherReplica = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);
        HourlySeries series = new HourlySeries(DB.dataSource(), 168, recent);
        own.write(batch(HOUR_MS, 0, 10, EventKind.CLICK));
        assertThat(current(series)).isEqualTo(10);

        otherReplica.write(batch(HOUR_MS, 100, 105, EventKind.CLICK));
        assertThat(current(series)).as("from memory: the other replica's commit is not read yet").isEqualTo(10);
        nanos.addAndGet(TTL + 1);
        assertThat(current(series)).as("read again once the time-to-live passed").isEqualTo(15);

        // An hour of the past, written here: in the next answer, without the clock moving.
        own.write(batch(HOUR_MS - 5 * Hours.HOUR_MS, 0, 3, EventKind.CLICK));
        HourlySeries.Series read = series.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS);
        assertThat(read.buckets().get(18).clicks()).isEqualTo(3);
        assertThat(read.total().clicks()).isEqualTo(18);
        // This process's next commit carries the other replica's rows in what its upsert returned.
        own.write(batch(HOUR_MS, 200, 201, EventKind.CLICK));
        assertThat(current(series)).isEqualTo(16);
        assertThat(series.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS))
                .isEqualTo(new HourlySeries(DB.dataSource(), 168).read(DAY, NOW_MS,
                        HourlySeries.EXACT_MAX_PAIRS));
    }

    @Test
    void estimatesFromMemoryAreTheSnapshotsAlsoWhenAnotherReplicaAddedUsersToAnHour() throws Exception {
        CopyBatchSink own = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS, true, recent);
        CopyBatchSink otherReplica = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);
        HourlySeries series = new HourlySeries(DB.dataSource(), 168, recent);
        HourlySeries snapshot = new HourlySeries(DB.dataSource(), 168);
        for (int hour = 0; hour < 24; hour++) {
            own.write(batch(DAY[hour], hour * 300, hour * 300 + 3_000, EventKind.IMPRESSION));
        }
        HourlySeries.Series first = series.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS);
        assertThat(first.total().uniques().method()).isEqualTo(HourlySeries.Method.ESTIMATE);
        assertThat(first).isEqualTo(snapshot.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS));

        // Users only the other replica saw, in an hour this process also wrote since: its union lacks them.
        otherReplica.write(batch(DAY[3], 50_000, 60_000, EventKind.IMPRESSION));
        own.write(batch(DAY[3], 60_000, 60_010, EventKind.IMPRESSION));
        HourlySeries.Series after = series.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS);
        assertThat(after.buckets().get(3).uniques().value()).isEqualTo(3_000 + 10_000 + 10);
        assertThat(after).as("the hour's sketches read again: the estimate counts the other replica's users")
                .isEqualTo(snapshot.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS));
        assertThat(after.total().uniques().value()).isGreaterThan(first.total().uniques().value() + 9_000);
    }

    @Test
    void withoutWaitingTheSeriesIsGivenOnlyWhenAllItNeedsIsInMemoryAndThenItIsTheSameAnswer() throws Exception {
        CopyBatchSink otherReplica = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);
        HourlySeries series = new HourlySeries(DB.dataSource(), 168, recent);
        for (int hour = 0; hour < 24; hour++) {
            otherReplica.write(batch(DAY[hour], hour * 300, hour * 300 + 3_000, EventKind.IMPRESSION));
        }
        assertThat(series.readIfInMemory(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS))
                .as("nothing read yet").isNull();
        HourlySeries.Series read = series.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS);
        assertThat(read.total().uniques().method()).isEqualTo(HourlySeries.Method.ESTIMATE);
        assertThat(series.readIfInMemory(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS)).isEqualTo(read);
        assertThat(series.readIfInMemory(new long[] {DAY[0], DAY[24]}, NOW_MS, HourlySeries.EXACT_MAX_PAIRS_ASKED))
                .as("a range to count with count(DISTINCT)").isNull();
        nanos.addAndGet(TTL + 1);
        assertThat(series.readIfInMemory(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS))
                .as("the hours' rows are older than the time-to-live").isNull();
    }

    @Test
    void aRangeCountedWithCountDistinctIsReadInOneSnapshotAsBefore() throws Exception {
        CopyBatchSink own = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS, true, recent);
        HourlySeries series = new HourlySeries(DB.dataSource(), 168, recent);
        own.write(batch(DAY[0], 0, 100, EventKind.IMPRESSION));
        own.write(batch(DAY[23], 50, 150, EventKind.IMPRESSION));
        HourlySeries.Uniques total = series.read(DAY, NOW_MS, HourlySeries.EXACT_MAX_PAIRS).total().uniques();
        assertThat(total).isEqualTo(new HourlySeries.Uniques(HourlySeries.Method.EXACT, 150, 150, 150));
    }

    private long current(HourlySeries series) throws Exception {
        return series.read(new long[] {HOUR_MS, HOUR_MS + Hours.HOUR_MS}, NOW_MS, HourlySeries.EXACT_MAX_PAIRS)
                .total().clicks();
    }

    private static long[] boundaries(long fromMs, int hours) {
        long[] boundaries = new long[hours + 1];
        for (int i = 0; i <= hours; i++) {
            boundaries[i] = fromMs + i * Hours.HOUR_MS;
        }
        return boundaries;
    }

    private static EventBatch batch(long hourMs, int from, int to, EventKind kind) {
        EventBatch batch = new EventBatch(to - from);
        for (int user = from; user < to; user++) {
            batch.add(hourMs + user % 3_600_000, "user-" + user, kind);
        }
        return batch;
    }
}
