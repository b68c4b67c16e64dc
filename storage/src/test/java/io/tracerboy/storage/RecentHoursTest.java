package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.junit.jupiter.api.Test;

/**
 * The rules {@link RecentHours} answers by, on a clock the test moves: an hour is fresh only within the time-to-live
 * of its last database read (a writer's publication never makes it fresh, since other replicas may have written),
 * every source merges to the same state in any order, and a sketch is complete only while nothing but this process's
 * commits came between what was known and what a commit left.
 */
class RecentHoursTest {
    private static final long HOUR = 1_796_083_200_000L;
    private static final long TTL = TimeUnit.MILLISECONDS.toNanos(50);

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final RecentHours recent = new RecentHours(nanos::get, TTL);

    @Test
    void anHourIsFreshOnlyWithinTheTtlOfItsLastDatabaseReadNeverByAPublicationAlone() {
        recent.committed(HOUR, new HourlyCounts(3, 1, 2), 3, sketch(0, 3));
        assertThat(recent.fresh(HOUR, HOUR + Hours.HOUR_MS, nanos.get())).isNull();
        assertThat(recent.get(HOUR).counts()).isEqualTo(new HourlyCounts(3, 1, 2));

        long readAt = nanos.get();
        recent.readStats(HOUR, new HourlyCounts(3, 1, 2), readAt);
        nanos.addAndGet(TTL);
        assertThat(recent.fresh(HOUR, HOUR + Hours.HOUR_MS, nanos.get())).containsOnlyKeys(HOUR);
        nanos.incrementAndGet();
        assertThat(recent.fresh(HOUR, HOUR + Hours.HOUR_MS, nanos.get())).isNull();
        // A range is fresh only if every hour of it is: the next hour was never read.
        recent.readStats(HOUR, HourlyCounts.ZERO, nanos.get());
        assertThat(recent.fresh(HOUR, HOUR + 2 * Hours.HOUR_MS, nanos.get())).isNull();
        // An older read finishing late does not make the hour look older than the newest read.
        recent.readStats(HOUR, HourlyCounts.ZERO, readAt);
        assertThat(recent.fresh(HOUR, HOUR + Hours.HOUR_MS, nanos.get())).containsOnlyKeys(HOUR);
        // With no time-to-live, only a read started at this very instant is fresh.
        recent.setTtlNanos(0);
        nanos.incrementAndGet();
        assertThat(recent.fresh(HOUR, HOUR + Hours.HOUR_MS, nanos.get())).isNull();
    }

    @Test
    void getAnswersAnHourOnlyWhileFreshWithThisProcesssCommitsMergedInAndNeverWithNoTimeToLive() {
        // Published by a commit only: another replica may have written, so GET must read first.
        recent.committed(HOUR, new HourlyCounts(3, 1, 2), 3, null);
        assertThat(recent.freshCounts(HOUR)).isNull();
        recent.readStats(HOUR, new HourlyCounts(5, 2, 3), nanos.get());
        assertThat(recent.freshCounts(HOUR)).isEqualTo(new HourlyCounts(5, 2, 3));
        // This process commits: visible at once, no read needed.
        recent.committed(HOUR, new HourlyCounts(6, 3, 3), 1, null);
        assertThat(recent.freshCounts(HOUR)).isEqualTo(new HourlyCounts(6, 3, 3));
        nanos.addAndGet(TTL + 1);
        assertThat(recent.freshCounts(HOUR)).isNull();
        recent.readStats(HOUR, new HourlyCounts(6, 3, 3), nanos.get());
        recent.setTtlNanos(0);
        assertThat(recent.freshCounts(HOUR)).as("GET_CACHE_TTL_MS=0 reads every time").isNull();
        assertThat(recent.freshCounts(HOUR + Hours.HOUR_MS)).isNull();
    }

    @Test
    void aCommitWhoseReplyWasLostMakesItsHourStaleAndOnlyAReadStartedAfterwardsMakesItFreshAgain() {
        long readBefore = nanos.get();
        recent.readStats(HOUR, new HourlyCounts(5, 2, 3), readBefore);
        nanos.addAndGet(10);
        // An earlier attempt's COMMIT went through; its reply was lost, so it was never published here.
        recent.unread(HOUR);
        assertThat(recent.freshCounts(HOUR)).isNull();
        assertThat(recent.fresh(HOUR, HOUR + Hours.HOUR_MS, nanos.get())).isNull();
        // A read that started before the unread COMMIT was learnt of may not hold it: merged, but not fresh.
        recent.readStats(HOUR, new HourlyCounts(7, 3, 4), readBefore + 5);
        assertThat(recent.freshCounts(HOUR)).isNull();
        assertThat(recent.get(HOUR).counts()).isEqualTo(new HourlyCounts(7, 3, 4));
        nanos.incrementAndGet();
        recent.readStats(HOUR, new HourlyCounts(9, 4, 5), nanos.get());
        assertThat(recent.freshCounts(HOUR)).isEqualTo(new HourlyCounts(9, 4, 5));
        // And an hour never known stays unknown.
        recent.unread(HOUR + Hours.HOUR_MS);
        assertThat(recent.get(HOUR + Hours.HOUR_MS)).isSameAs(RecentHours.Hour.UNKNOWN);
    }

    @Test
    void aReadStartedBeforeAnHourWasForgottenMakesNothingFreshForTheForgottenMayHaveHeldCommitsItLacks() {
        // A full memory: MAX_HOURS hours from HOUR on.
        for (int i = 0; i < RecentHours.MAX_HOURS; i++) {
            recent.readStats(HOUR + i * Hours.HOUR_MS, HourlyCounts.ZERO, nanos.get());
        }
        long next = HOUR + RecentHours.MAX_HOURS * Hours.HOUR_MS;
        long readStarted = nanos.get(); // a read of `next` starts
        nanos.addAndGet(10);
        // A commit of a later hour: the memory overflows, and the oldest hour is forgotten with what was merged into it
        // (had it been `next`, a read that started before the commit would lack that commit).
        recent.committed(next + Hours.HOUR_MS, new HourlyCounts(1, 1, 0), 1, null);
        assertThat(recent.get(HOUR)).isSameAs(RecentHours.Hour.UNKNOWN);
        recent.readStats(next, new HourlyCounts(5, 5, 0), readStarted);
        assertThat(recent.get(next).counts()).isEqualTo(new HourlyCounts(5, 5, 0));
        assertThat(recent.freshCounts(next)).as("started before the forgetting: not fresh").isNull();
        nanos.incrementAndGet();
        recent.readStats(next, new HourlyCounts(6, 6, 0), nanos.get());
        assertThat(recent.freshCounts(next)).isEqualTo(new HourlyCounts(6, 6, 0));
    }

    @Test
    void aReadAndACommitMergeToTheSameKnowledgeInEitherOrderAndCountsNeverGoBack() {
        RecentHours other = new RecentHours(nanos::get, TTL);
        HourlyCounts read = new HourlyCounts(10, 4, 6);
        HourlyCounts committed = new HourlyCounts(12, 5, 7);
        recent.readStats(HOUR, read, 7);
        recent.committed(HOUR, committed, 2, sketch(0, 12));
        other.committed(HOUR, committed, 2, sketch(0, 12));
        other.readStats(HOUR, read, 7);
        assertThat(recent.get(HOUR).counts()).isEqualTo(committed).isEqualTo(other.get(HOUR).counts());
        assertThat(recent.get(HOUR).readAtNanos()).isEqualTo(other.get(HOUR).readAtNanos()).isEqualTo(7);
        assertThat(recent.get(HOUR).sketch().getEstimate()).isEqualTo(other.get(HOUR).sketch().getEstimate());
        // A stale read arriving after the commit leaves the larger counts.
        recent.readStats(HOUR, new HourlyCounts(1, 1, 1), 8);
        assertThat(recent.get(HOUR).counts()).isEqualTo(committed);
    }

    @Test
    void aSketchStaysCompleteOnlyWhileNothingButThisProcesssCommitsCameBetween() {
        // Read in one snapshot: 100 users, all in the union.
        recent.readStats(HOUR, new HourlyCounts(100, 0, 100), nanos.get());
        recent.readSketches(HOUR, 100, sketch(0, 100));
        assertThat(recent.get(HOUR).sketchComplete()).isTrue();
        // This process adds 20: 100 + 20 = what the row says, so nobody else wrote between.
        recent.committed(HOUR, new HourlyCounts(120, 0, 120), 20, sketch(100, 120));
        assertThat(recent.get(HOUR).sketchComplete()).isTrue();
        // A commit that adds none changes nothing, with or without a sketch of its own.
        recent.committed(HOUR, new HourlyCounts(120, 0, 130), 0, null);
        assertThat(recent.get(HOUR).sketchComplete()).isTrue();
        // Another replica added 5 before this commit of 10: the row says 135, not 130; those 5 are in no sketch here.
        recent.committed(HOUR, new HourlyCounts(135, 0, 145), 10, sketch(120, 130));
        assertThat(recent.get(HOUR).counts().uniqueUsers()).isEqualTo(135);
        assertThat(recent.get(HOUR).sketchComplete()).isFalse();
        // Read again in one snapshot: complete.
        recent.readSketches(HOUR, 135, sketch(0, 135));
        assertThat(recent.get(HOUR).sketchComplete()).isTrue();
        // A read that sees users the union lacks makes it incomplete again.
        recent.readStats(HOUR, new HourlyCounts(140, 0, 150), nanos.get());
        assertThat(recent.get(HOUR).sketchComplete()).isFalse();
    }

    @Test
    void twoLanesCommitsArrivingOutOfOrderLeaveTheSketchToBeReadAgainNeverCompleteByMistake() {
        recent.readSketches(HOUR, 0, null);
        // Lane A committed first (0 -> 10), lane B second (10 -> 30); B's publication arrives first.
        recent.committed(HOUR, new HourlyCounts(30, 0, 30), 20, sketch(10, 30));
        assertThat(recent.get(HOUR).sketchComplete()).isFalse();
        recent.committed(HOUR, new HourlyCounts(10, 0, 10), 10, sketch(0, 10));
        assertThat(recent.get(HOUR).counts().uniqueUsers()).isEqualTo(30);
        assertThat(recent.get(HOUR).sketchComplete()).as("complete for 10 users, the count is 30").isFalse();
    }

    @Test
    void atMostMaxHoursAreHeldAndTheOldestGoFirst() {
        for (int i = 0; i <= RecentHours.MAX_HOURS; i++) {
            recent.readStats(HOUR + i * Hours.HOUR_MS, HourlyCounts.ZERO, nanos.get());
        }
        assertThat(recent.size()).isEqualTo(RecentHours.MAX_HOURS);
        assertThat(recent.get(HOUR)).isSameAs(RecentHours.Hour.UNKNOWN);
        assertThat(recent.get(HOUR + Hours.HOUR_MS).read()).isTrue();
    }

    private static HllSketch sketch(int fromUser, int toUser) {
        HllSketch sketch = new HllSketch(HourlySketches.LG_K, TgtHllType.HLL_8);
        for (int user = fromUser; user < toUser; user++) {
            sketch.update("user-" + user);
        }
        return sketch;
    }
}
