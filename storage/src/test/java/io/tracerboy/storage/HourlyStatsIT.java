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
 * {@link HourlyStats} for {@code GET /analytics} on a real PostgreSQL and a nanosecond clock the test moves: an hour is
 * answered from memory only after a read and within the time-to-live; the hours asked for are read again together
 * every half time-to-live while requests come, so they stay fresh and another replica's writes show within the
 * time-to-live; an hour not asked for in {@link HourlyStats#WATCH_NANOS} is no longer read; and at a time-to-live of 0
 * every answer is a read.
 */
class HourlyStatsIT {
    private static final long NOW_MS = Hours.startMs(System.currentTimeMillis()) + 30 * 60_000;
    private static final long HOUR_MS = Hours.startMs(NOW_MS);
    private static final long PAST_MS = HOUR_MS - 5 * Hours.HOUR_MS;
    private static final long TTL = TimeUnit.MILLISECONDS.toNanos(50);
    private static final RetentionKeeper.Retention KEPT = new RetentionKeeper.Retention(168, 168, 24);

    @RegisterExtension
    static final MigratedDatabase DB = new MigratedDatabase(4);

    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final RecentHours recent = new RecentHours(nanos::get, TTL);
    /** Reads ahead of need run at once, on the test's thread. */
    private final HourlyStats stats = new HourlyStats(DB.dataSource(), recent, Runnable::run);
    /** Another replica: writes without telling {@link #recent}. */
    private final CopyBatchSink otherReplica = new CopyBatchSink(DB.dataSource(), 1_000_000, KEPT, () -> NOW_MS);

    @Test
    void anAskedHourStaysFreshWhileAskedForAndShowsAnotherReplicasWritesWithinTheTimeToLive() throws Exception {
        otherReplica.write(batch(PAST_MS, 0, 4));
        // Never read: not answered from memory (the read ahead of need ran at once, so it is now).
        assertThat(recent.get(PAST_MS).read()).isFalse();
        assertThat(stats.fresh(PAST_MS)).isNull();
        assertThat(stats.fresh(PAST_MS)).isEqualTo(new HourlyCounts(4, 4, 0));

        otherReplica.write(batch(PAST_MS, 4, 6));
        assertThat(stats.fresh(PAST_MS)).as("from memory: not read again yet").isEqualTo(new HourlyCounts(4, 4, 0));
        // Half a time-to-live on: this request is still answered from the first read, and reads the hour again.
        nanos.addAndGet(TTL / 2);
        assertThat(stats.fresh(PAST_MS)).isEqualTo(new HourlyCounts(4, 4, 0));
        assertThat(stats.fresh(PAST_MS)).isEqualTo(new HourlyCounts(6, 6, 0));
        // Past the first read's time-to-live, fresh from the second: no request of this hour needed a read of its own.
        nanos.addAndGet(TTL / 2 + 1);
        assertThat(stats.fresh(PAST_MS)).isEqualTo(new HourlyCounts(6, 6, 0));

        // Not asked for longer than the watch: the next read ahead of need leaves it out, and it goes stale.
        nanos.addAndGet(HourlyStats.WATCH_NANOS + 1);
        assertThat(stats.fresh(HOUR_MS)).isNull();
        assertThat(stats.watched()).isEqualTo(1);
        long readAt = recent.get(PAST_MS).readAtNanos();
        nanos.addAndGet(TTL);
        stats.fresh(HOUR_MS);
        assertThat(recent.get(PAST_MS).readAtNanos()).isEqualTo(readAt);
        assertThat(recent.freshCounts(PAST_MS)).isNull();
    }

    @Test
    void aReadTellsTheMemoryAndNoTimeToLiveMeansEveryAnswerIsARead() throws Exception {
        otherReplica.write(batch(HOUR_MS, 0, 3));
        HourlyStats direct = new HourlyStats(DB.dataSource());
        assertThat(direct.fresh(HOUR_MS)).as("without memory, always read").isNull();
        assertThat(direct.read(HOUR_MS)).isEqualTo(new HourlyCounts(3, 3, 0));

        recent.setTtlNanos(0);
        assertThat(stats.read(HOUR_MS)).isEqualTo(new HourlyCounts(3, 3, 0));
        assertThat(stats.fresh(HOUR_MS)).isNull();
        recent.setTtlNanos(TTL);
        nanos.incrementAndGet();
        assertThat(stats.read(HOUR_MS)).isEqualTo(new HourlyCounts(3, 3, 0));
        assertThat(stats.fresh(HOUR_MS)).isEqualTo(new HourlyCounts(3, 3, 0));
        // An hour without a row reads as zeros and is remembered so.
        assertThat(stats.read(HOUR_MS - Hours.HOUR_MS)).isEqualTo(HourlyCounts.ZERO);
        assertThat(stats.fresh(HOUR_MS - Hours.HOUR_MS)).isEqualTo(HourlyCounts.ZERO);
    }

    @Test
    void aTimeToLiveLoweredAtRuntimeIsFollowedAtTheNextRequest() throws Exception {
        recent.setTtlNanos(TimeUnit.SECONDS.toNanos(60));
        otherReplica.write(batch(PAST_MS, 0, 2));
        stats.fresh(PAST_MS); // read ahead of need at once; the next would be due in 30 s at this time-to-live
        assertThat(stats.fresh(PAST_MS)).isEqualTo(new HourlyCounts(2, 2, 0));
        recent.setTtlNanos(TTL);
        otherReplica.write(batch(PAST_MS, 2, 3));
        nanos.addAndGet(TTL / 2);
        stats.fresh(PAST_MS); // due by the new time-to-live: read again
        assertThat(stats.fresh(PAST_MS)).isEqualTo(new HourlyCounts(3, 3, 0));
    }

    @Test
    void hoursAskedForOnceCannotKeepOutAnHourAskedForAgainAndAgain() throws Exception {
        otherReplica.write(batch(PAST_MS, 0, 2));
        for (int i = 0; i < HourlyStats.MAX_WATCHED; i++) {
            stats.fresh(PAST_MS - 1_000L * Hours.HOUR_MS - i * Hours.HOUR_MS);
            nanos.incrementAndGet();
        }
        assertThat(stats.watched()).isEqualTo(HourlyStats.MAX_WATCHED);
        stats.fresh(PAST_MS);
        assertThat(stats.watched()).isEqualTo(HourlyStats.MAX_WATCHED);
        nanos.addAndGet(TTL / 2);
        stats.fresh(PAST_MS); // the read ahead of need includes it
        assertThat(stats.fresh(PAST_MS)).isEqualTo(new HourlyCounts(2, 2, 0));
        long readAt = recent.get(PAST_MS).readAtNanos();
        nanos.addAndGet(TTL / 2);
        stats.fresh(PAST_MS);
        assertThat(recent.get(PAST_MS).readAtNanos()).isGreaterThan(readAt);
    }

    private static EventBatch batch(long hourMs, int from, int to) {
        EventBatch batch = new EventBatch(to - from);
        for (int user = from; user < to; user++) {
            batch.add(hourMs + user * 1_000L, "user-" + user, EventKind.CLICK);
        }
        return batch;
    }
}
