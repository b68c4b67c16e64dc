package io.tracerboy.bench;

import io.tracerboy.storage.HourlySeries;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;

/**
 * The error of the approximate range uniques over a week, as {@code GET /analytics/series} computes them: one HLL
 * sketch per hour and writer (two writers, each event going to either, as two replicas), stored in their compact
 * form, read back and united per day and per week, against the exact distinct count of the same users. Each user is
 * active in an hour with probability {@code activeShare}; several trials per population, with other seeds and user
 * names (the estimate depends on the set of names only). No
 * database: the bytes are those {@code hourly_sketches} holds and {@code HourlySeries} unites.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar io.tracerboy.bench.SketchErrorBenchmark [trials]}
 */
public final class SketchErrorBenchmark {
    private static final int HOURS = 168;
    private static final int WRITERS = 2;

    private SketchErrorBenchmark() {
    }

    public static void main(String[] args) {
        int trials = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        System.out.printf("lgK %d, stated bound %.4f (%d standard errors)%n", HourlySeries.SKETCH_LG_K,
                HourlySeries.RELATIVE_ERROR_BOUND, HourlySeries.BOUND_STD_DEVS);
        for (int users : new int[] {10_000, 1_000_000}) {
            for (double activeShare : new double[] {0.02, 0.2}) {
                run(users, activeShare, trials);
            }
        }
    }

    private static void run(int users, double activeShare, int trials) {
        double worstWeek = 0;
        double worstDay = 0;
        double sumSquaredWeek = 0;
        int outsideBounds = 0;
        int ranges = 0;
        long exactWeek = 0;
        for (int trial = 0; trial < trials; trial++) {
            SplittableRandom random = new SplittableRandom(1_000L * users + trial);
            byte[][][] stored = new byte[HOURS][WRITERS][];
            BitSet week = new BitSet(users);
            BitSet[] days = new BitSet[7];
            for (int hour = 0; hour < HOURS; hour++) {
                HllSketch[] sketches = new HllSketch[WRITERS];
                for (int w = 0; w < WRITERS; w++) {
                    sketches[w] = new HllSketch(HourlySeries.SKETCH_LG_K, TgtHllType.HLL_8);
                }
                BitSet day = days[hour / 24] = days[hour / 24] == null ? new BitSet(users) : days[hour / 24];
                // Geometric skips: visit only the active users of the hour.
                for (int user = skip(random, activeShare); user < users; user += 1 + skip(random, activeShare)) {
                    sketches[random.nextInt(WRITERS)].update("t" + trial + "-user-" + user);
                    week.set(user);
                    day.set(user);
                }
                for (int w = 0; w < WRITERS; w++) {
                    stored[hour][w] = sketches[w].toCompactByteArray();
                }
            }
            exactWeek = week.cardinality();
            double weekError = error(unite(stored, 0, HOURS), exactWeek);
            worstWeek = Math.max(worstWeek, Math.abs(weekError));
            sumSquaredWeek += weekError * weekError;
            outsideBounds += outside(unite(stored, 0, HOURS), exactWeek);
            ranges++;
            for (int d = 0; d < 7; d++) {
                Union union = unite(stored, d * 24, d * 24 + 24);
                worstDay = Math.max(worstDay, Math.abs(error(union, days[d].cardinality())));
                outsideBounds += outside(union, days[d].cardinality());
                ranges++;
            }
        }
        System.out.printf("users %,d, active %.0f%% of hours: week %,d distinct; |error| week max %.4f (rms %.4f),"
                + " day max %.4f; outside the 2-sigma bounds %d of %d ranges; %d trials%n", users,
                activeShare * 100, exactWeek, worstWeek, Math.sqrt(sumSquaredWeek / trials), worstDay, outsideBounds,
                ranges, trials);
    }

    private static int skip(SplittableRandom random, double p) {
        return (int) Math.floor(Math.log(1 - random.nextDouble()) / Math.log(1 - p));
    }

    private static Union unite(byte[][][] stored, int fromHour, int toHour) {
        Union union = new Union(HourlySeries.SKETCH_LG_K);
        for (int hour = fromHour; hour < toHour; hour++) {
            for (byte[] bytes : stored[hour]) {
                union.update(HllSketch.heapify(bytes));
            }
        }
        return union;
    }

    private static double error(Union union, long exact) {
        return (union.getEstimate() - exact) / exact;
    }

    private static int outside(Union union, long exact) {
        return union.getLowerBound(HourlySeries.BOUND_STD_DEVS) <= exact
                && exact <= union.getUpperBound(HourlySeries.BOUND_STD_DEVS) ? 0 : 1;
    }
}
