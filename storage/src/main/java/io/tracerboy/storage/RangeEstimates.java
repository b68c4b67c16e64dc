package io.tracerboy.storage;

import java.util.concurrent.ConcurrentHashMap;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.Union;

/**
 * The last estimate of each range's unique users, kept with the hours' sketches it was united from, so that a series
 * asked for again and again (a dashboard; ~700 a second in {@code benchmarks/series-under-load.sh}) unites a day's 24
 * sketches of 4 KiB only when one of them has changed. {@link RecentHours} never changes a sketch it has published (a
 * commit or a read replaces the hour's sketch with a new union), so the sketches are compared by identity: the same
 * objects in the same order are the same union. Bounded: when {@link #KEPT} ranges are known, all are forgotten.
 * Thread-safe (the I/O threads answer series from memory at once).
 */
final class RangeEstimates {
    /** Ranges kept; each holds references to its hours' sketches, most of them the ones {@link RecentHours} holds. */
    static final int KEPT = 64;

    /** A union's estimate and its bounds at {@link HourlySeries#BOUND_STD_DEVS} standard deviations. */
    record Estimate(double estimate, double lower, double upper) {
    }

    private record Range(long startMs, long endMs) {
    }

    private record Known(HllSketch[] united, Estimate estimate) {
    }

    private final ConcurrentHashMap<Range, Known> known = new ConcurrentHashMap<>();

    /** The estimate of the union of {@code sketches} (the range's hours, in order), reused if they are the same. */
    Estimate estimate(long startMs, long endMs, HllSketch[] sketches) {
        Range range = new Range(startMs, endMs);
        Known last = known.get(range);
        if (last != null && sameObjects(last.united(), sketches)) {
            return last.estimate();
        }
        Estimate estimate = unite(sketches);
        if (known.size() >= KEPT) {
            known.clear();
        }
        known.put(range, new Known(sketches.clone(), estimate));
        return estimate;
    }

    /** The estimate of the union of {@code sketches}, computed. */
    static Estimate unite(HllSketch[] sketches) {
        Union union = new Union(HourlySketches.LG_K);
        for (HllSketch sketch : sketches) {
            union.update(sketch);
        }
        return new Estimate(union.getEstimate(), union.getLowerBound(HourlySeries.BOUND_STD_DEVS),
                union.getUpperBound(HourlySeries.BOUND_STD_DEVS));
    }

    private static boolean sameObjects(HllSketch[] a, HllSketch[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                return false;
            }
        }
        return true;
    }
}
