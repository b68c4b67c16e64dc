package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@link SeriesQuery}'s day boundaries: one bucket per local day the zone has, so a day the zone skipped gets none
 * (Samoa moved across the date line and Pacific/Apia has no 2011-12-30), and every bucket has a length.
 */
class SeriesQueryTest {
    @Test
    void aDayTheZoneSkippedHasNoBucketAndEveryBucketHasALength() {
        SeriesQuery query = SeriesQuery.parse("from=2011-12-28&to=2012-01-02&interval=day&tz=Pacific/Apia");
        long[] boundaries = query.boundariesMs();
        assertThat(query.buckets()).isEqualTo(4); // 28, 29, 31 December and 1 January
        for (int i = 1; i < boundaries.length; i++) {
            assertThat(boundaries[i]).isGreaterThan(boundaries[i - 1]);
        }
        assertThat(Instant.ofEpochMilli(boundaries[2]).atZone(query.zone()).toLocalDate())
                .hasToString("2011-12-31");
        assertThat(boundaries[2] - boundaries[1]).isEqualTo(24 * 3_600_000L);
    }

    @Test
    void daysInUtcAreWholeDays() {
        SeriesQuery query = SeriesQuery.parse("from=2026-12-01&to=2026-12-06&interval=day");
        assertThat(query.buckets()).isEqualTo(5);
        assertThat(query.boundariesMs()[5] - query.boundariesMs()[0]).isEqualTo(5 * 86_400_000L);
    }
}
