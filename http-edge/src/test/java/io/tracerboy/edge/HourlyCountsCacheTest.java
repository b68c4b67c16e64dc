package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.HourlyCounts;
import org.junit.jupiter.api.Test;

class HourlyCountsCacheTest {
    private static final long MS = 1_000_000L;
    private static final long HOUR_START_MS = Hours.startMs(1_700_000_000_000L);
    private static final HourlyCounts COUNTS = new HourlyCounts(1, 2, 3);

    private long nowNanos = 1_000 * MS;
    private long commits = 7;
    private final HourlyCountsCache cache = new HourlyCountsCache(() -> commits, () -> nowNanos, 50 * MS);

    @Test
    void servesAnAnswerUntilTheTtlRunsOut() {
        cache.put(HOUR_START_MS, COUNTS, cache.generation(), nowNanos);
        nowNanos += 49 * MS;
        assertThat(cache.get(HOUR_START_MS)).isEqualTo(COUNTS);
        nowNanos += 1 * MS;
        assertThat(cache.get(HOUR_START_MS)).isNull();
    }

    @Test
    void forgetsAnAnswerAsSoonAsThisProcessCommitsAgain() {
        cache.put(HOUR_START_MS, COUNTS, cache.generation(), nowNanos);
        commits++;
        assertThat(cache.get(HOUR_START_MS)).isNull();
    }

    @Test
    void anAnswerReadWhileABatchCommittedIsNotServed() {
        long generation = cache.generation(); // taken before the read
        commits++;                            // the writer commits while the read runs
        cache.put(HOUR_START_MS, COUNTS, generation, nowNanos);
        assertThat(cache.get(HOUR_START_MS)).isNull();
    }

    @Test
    void keepsHoursApartAndCanBeTurnedOff() {
        cache.put(HOUR_START_MS, COUNTS, cache.generation(), nowNanos);
        assertThat(cache.get(HOUR_START_MS + Hours.HOUR_MS)).isNull();
        HourlyCountsCache off = new HourlyCountsCache(() -> commits, () -> nowNanos, 0);
        off.put(HOUR_START_MS, COUNTS, off.generation(), nowNanos);
        assertThat(off.get(HOUR_START_MS)).isNull();
    }
}
