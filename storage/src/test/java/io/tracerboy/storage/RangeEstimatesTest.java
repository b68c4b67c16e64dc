package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.junit.jupiter.api.Test;

/**
 * {@link RangeEstimates} unites a range's sketches again only when one of them is another object: the same objects
 * give the same estimate without a union, a replaced sketch (as each commit replaces its hour's) gives the new union's
 * estimate, ranges do not share estimates, and past {@link RangeEstimates#KEPT} ranges all are forgotten.
 */
class RangeEstimatesTest {
    private static final long DAY = 1_796_083_200_000L;
    private static final long HOUR_MS = 3_600_000L;

    private final RangeEstimates estimates = new RangeEstimates();

    @Test
    void theSameSketchesGiveTheLastEstimateWithoutUnitingThemAgain() {
        HllSketch[] day = {sketch(0, 5_000), sketch(2_500, 7_500), sketch(5_000, 10_000)};
        RangeEstimates.Estimate first = estimates.estimate(DAY, DAY + 24 * HOUR_MS, day);
        assertThat(first.estimate()).isCloseTo(10_000, within(10_000 * 0.05));
        assertThat(first.lower()).isLessThanOrEqualTo(first.estimate());
        assertThat(first.upper()).isGreaterThanOrEqualTo(first.estimate());
        // The very object: no union was computed for it.
        assertThat(estimates.estimate(DAY, DAY + 24 * HOUR_MS, day.clone())).isSameAs(first);
        // The same figures, computed.
        assertThat(RangeEstimates.unite(day)).isEqualTo(first).isNotSameAs(first);
    }

    @Test
    void aReplacedSketchIsUnitedAgainAndItsUsersCount() {
        HllSketch[] day = {sketch(0, 5_000), sketch(5_000, 10_000)};
        RangeEstimates.Estimate before = estimates.estimate(DAY, DAY + 24 * HOUR_MS, day);
        // A commit replaces the second hour's sketch with a new union holding 10 000 more users.
        HllSketch[] after = {day[0], sketch(5_000, 20_000)};
        RangeEstimates.Estimate now = estimates.estimate(DAY, DAY + 24 * HOUR_MS, after);
        assertThat(now).isNotSameAs(before);
        assertThat(now.estimate()).isCloseTo(20_000, within(20_000 * 0.05));
        // Equal contents in a new object are united again too: identity, not equality, is what is trusted.
        HllSketch[] copies = {after[0].copy(), after[1].copy()};
        RangeEstimates.Estimate again = estimates.estimate(DAY, DAY + 24 * HOUR_MS, copies);
        assertThat(again).isNotSameAs(now).isEqualTo(now);
        // One hour fewer (an hour without users is left out) is another union.
        assertThat(estimates.estimate(DAY, DAY + 24 * HOUR_MS, new HllSketch[] {copies[0]}).estimate())
                .isCloseTo(5_000, within(5_000 * 0.05));
    }

    @Test
    void rangesKeepTheirOwnEstimatesAndPastTheBoundAllAreForgotten() {
        HllSketch[] small = {sketch(0, 100)};
        HllSketch[] large = {sketch(0, 50_000)};
        RangeEstimates.Estimate first = estimates.estimate(DAY, DAY + HOUR_MS, small);
        RangeEstimates.Estimate other = estimates.estimate(DAY + HOUR_MS, DAY + 2 * HOUR_MS, large);
        assertThat(other.estimate()).isGreaterThan(first.estimate() * 100);
        assertThat(estimates.estimate(DAY, DAY + HOUR_MS, small)).isSameAs(first);
        for (int i = 2; i <= RangeEstimates.KEPT; i++) {
            estimates.estimate(DAY + i * HOUR_MS, DAY + (i + 1) * HOUR_MS, small);
        }
        assertThat(estimates.estimate(DAY, DAY + HOUR_MS, small)).isNotSameAs(first).isEqualTo(first);
    }

    private static HllSketch sketch(int fromUser, int toUser) {
        HllSketch sketch = new HllSketch(HourlySketches.LG_K, TgtHllType.HLL_8);
        for (int user = fromUser; user < toUser; user++) {
            sketch.update("u" + user);
        }
        return sketch;
    }
}
