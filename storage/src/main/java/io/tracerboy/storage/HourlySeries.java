package io.tracerboy.storage;

import io.tracerboy.ingest.Hours;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;

/**
 * Reads a series of buckets of whole UTC hours, and their total, in one snapshot: clicks and impressions summed from
 * {@code hourly_stats}; unique users of one hour from {@code hourly_stats} (exact), of several hours by
 * {@code count(DISTINCT user_id)} over {@code hourly_users} where those rows are still kept and there are at most
 * as many as the caller affords to scan, and otherwise estimated from the union of the hours' {@code hourly_sketches},
 * with its bounds. Thread-safe; called on Undertow worker threads.
 */
public final class HourlySeries {
    /**
     * The most (hour, user) pairs counted exactly for one range by default: count(DISTINCT) over {@code hourly_users}
     * costs ~1.1 us a pair here (PostgreSQL 15, 2 shared cores: 75 800 pairs in 86 ms, 227 000 in 267 ms, 910 000 in
     * 1.5-1.8 s), so 2 000 keep a series within a few milliseconds (BENCHMARKS.md, "Unique users over a range").
     */
    public static final long EXACT_MAX_PAIRS = 2_000;
    /** The most pairs counted exactly when the client asks for exact uniques and accepts ~0.1 s per range. */
    public static final long EXACT_MAX_PAIRS_ASKED = 100_000;
    /** log2 of the buckets of every hourly sketch ({@code HourlySketches}). */
    public static final int SKETCH_LG_K = HourlySketches.LG_K;
    /** Standard deviations of the estimate's bounds: 2, about 95.4 % confidence. */
    public static final int BOUND_STD_DEVS = 2;
    /** The relative error bound an estimate is given with: {@value #BOUND_STD_DEVS} relative standard errors. */
    public static final double RELATIVE_ERROR_BOUND = HllSketch.getRelErr(true, true, HourlySketches.LG_K,
            BOUND_STD_DEVS);

    private static final String STATS_SQL = "SELECT extract(epoch FROM hour)::bigint * 1000, unique_users, clicks,"
            + " impressions FROM hourly_stats WHERE hour >= to_timestamp(?) AND hour < to_timestamp(?)";
    private static final String DISTINCT_SQL = "SELECT count(DISTINCT user_id) FROM hourly_users"
            + " WHERE hour >= to_timestamp(?) AND hour < to_timestamp(?)";
    private static final String SKETCHES_SQL = "SELECT extract(epoch FROM hour)::bigint * 1000, sketch"
            + " FROM hourly_sketches WHERE hour >= to_timestamp(?) AND hour < to_timestamp(?)";

    /** How a figure of unique users was had. */
    public enum Method {
        /** Counted: one hour's {@code hourly_stats}, or {@code count(DISTINCT)} over {@code hourly_users}. */
        EXACT,
        /** Estimated from the hours' sketches, within {@link Uniques#lower} and {@link Uniques#upper}. */
        ESTIMATE,
        /** Neither: the users are no longer kept and some hour has no sketch (written before sketches were kept). */
        UNKNOWN
    }

    /** Unique users of a range; {@code lower} and {@code upper} equal {@code value} when exact, 0 when unknown. */
    public record Uniques(Method method, long value, long lower, long upper) {
        static Uniques exact(long value) {
            return new Uniques(Method.EXACT, value, value, value);
        }

        static final Uniques UNKNOWN = new Uniques(Method.UNKNOWN, 0, 0, 0);
    }

    /** One bucket, [startMs, endMs), or the whole range. */
    public record Bucket(long startMs, long endMs, long clicks, long impressions, Uniques uniques) {
    }

    /** The buckets in order and their total. */
    public record Series(List<Bucket> buckets, Bucket total) {
    }

    private final DataSource dataSource;
    private final int userRetentionHours;

    /** {@code userRetentionHours}: how long {@code hourly_users} is kept ({@code USER_RETENTION_HOURS}). */
    public HourlySeries(DataSource dataSource, int userRetentionHours) {
        this.dataSource = dataSource;
        this.userRetentionHours = userRetentionHours;
    }

    /**
     * The buckets between consecutive {@code boundariesMs} (UTC hour starts, increasing, at least two), as of
     * {@code nowMs} (which decides whether an hour's users are still kept), counting a range's users exactly when it
     * has at most {@code exactMaxPairs} (hour, user) pairs.
     */
    public Series read(long[] boundariesMs, long nowMs, long exactMaxPairs) throws SQLException {
        long fromMs = boundariesMs[0];
        long toMs = boundariesMs[boundariesMs.length - 1];
        try (Connection connection = dataSource.getConnection()) {
            // One snapshot: the stats, the users and the sketches of one set of commits.
            connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            connection.setReadOnly(true);
            connection.setAutoCommit(false);
            try {
                TreeMap<Long, HourlyCounts> hours = stats(connection, fromMs, toMs);
                Map<Long, HllSketch> sketches = null;
                List<Bucket> buckets = new ArrayList<>(boundariesMs.length - 1);
                for (int i = 0; i + 1 < boundariesMs.length; i++) {
                    Range range = new Range(boundariesMs[i], boundariesMs[i + 1], hours, exactMaxPairs);
                    if (range.needsSketches(nowMs)) {
                        sketches = sketches != null ? sketches : sketches(connection, fromMs, toMs);
                    }
                    buckets.add(range.bucket(connection, nowMs, sketches));
                }
                Bucket total;
                if (buckets.size() == 1) {
                    total = buckets.get(0);
                } else {
                    Range range = new Range(fromMs, toMs, hours, exactMaxPairs);
                    if (range.needsSketches(nowMs)) {
                        sketches = sketches != null ? sketches : sketches(connection, fromMs, toMs);
                    }
                    total = range.bucket(connection, nowMs, sketches);
                }
                connection.commit();
                return new Series(buckets, total);
            } finally {
                connection.rollback();
                connection.setAutoCommit(true);
            }
        }
    }

    /** The hours of one range, summed. */
    private final class Range {
        final long startMs;
        final long endMs;
        final TreeMap<Long, HourlyCounts> hours;
        final long exactMaxPairs;
        long clicks;
        long impressions;
        long pairs;
        long busiestHourUsers;

        Range(long startMs, long endMs, TreeMap<Long, HourlyCounts> all, long exactMaxPairs) {
            this.startMs = startMs;
            this.exactMaxPairs = exactMaxPairs;
            this.endMs = endMs;
            this.hours = new TreeMap<>(all.subMap(startMs, endMs));
            for (HourlyCounts counts : hours.values()) {
                clicks += counts.clicks();
                impressions += counts.impressions();
                pairs += counts.uniqueUsers();
                busiestHourUsers = Math.max(busiestHourUsers, counts.uniqueUsers());
            }
        }

        /** One hour, or only one hour with users (its count is the range's), or few enough pairs still kept. */
        boolean exactly(long nowMs) {
            return endMs - startMs == Hours.HOUR_MS || pairs == busiestHourUsers
                    || startMs >= nowMs - userRetentionHours * Hours.HOUR_MS && pairs <= exactMaxPairs;
        }

        boolean needsSketches(long nowMs) {
            return !exactly(nowMs);
        }

        Bucket bucket(Connection connection, long nowMs, Map<Long, HllSketch> sketches) throws SQLException {
            return new Bucket(startMs, endMs, clicks, impressions, uniques(connection, nowMs, sketches));
        }

        private Uniques uniques(Connection connection, long nowMs, Map<Long, HllSketch> sketches)
                throws SQLException {
            if (endMs - startMs == Hours.HOUR_MS || pairs == busiestHourUsers) {
                return Uniques.exact(pairs);
            }
            if (exactly(nowMs)) {
                try (PreparedStatement query = connection.prepareStatement(DISTINCT_SQL)) {
                    query.setLong(1, startMs / 1000);
                    query.setLong(2, endMs / 1000);
                    try (ResultSet rs = query.executeQuery()) {
                        rs.next();
                        return Uniques.exact(rs.getLong(1));
                    }
                }
            }
            Union union = new Union(HourlySketches.LG_K);
            for (Map.Entry<Long, HourlyCounts> hour : hours.entrySet()) {
                if (hour.getValue().uniqueUsers() == 0) {
                    continue;
                }
                HllSketch sketch = sketches.get(hour.getKey());
                if (sketch == null) {
                    return Uniques.UNKNOWN;
                }
                union.update(sketch);
            }
            // The hours' exact counts bound it too: at least the busiest hour's users, at most all hours' added up.
            long estimate = clamp(Math.round(union.getEstimate()));
            long lower = clamp((long) Math.floor(union.getLowerBound(BOUND_STD_DEVS)));
            long upper = clamp((long) Math.ceil(union.getUpperBound(BOUND_STD_DEVS)));
            return new Uniques(Method.ESTIMATE, estimate, lower, upper);
        }

        private long clamp(long value) {
            return Math.max(busiestHourUsers, Math.min(pairs, value));
        }
    }

    private static TreeMap<Long, HourlyCounts> stats(Connection connection, long fromMs, long toMs)
            throws SQLException {
        TreeMap<Long, HourlyCounts> hours = new TreeMap<>();
        try (PreparedStatement query = connection.prepareStatement(STATS_SQL)) {
            query.setLong(1, fromMs / 1000);
            query.setLong(2, toMs / 1000);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    hours.put(rs.getLong(1), new HourlyCounts(rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
        }
        return hours;
    }

    /** Every writer's sketch of each hour, united per hour. */
    private static Map<Long, HllSketch> sketches(Connection connection, long fromMs, long toMs) throws SQLException {
        Map<Long, Union> unions = new HashMap<>();
        try (PreparedStatement query = connection.prepareStatement(SKETCHES_SQL)) {
            query.setLong(1, fromMs / 1000);
            query.setLong(2, toMs / 1000);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    unions.computeIfAbsent(rs.getLong(1), h -> new Union(HourlySketches.LG_K))
                            .update(HllSketch.heapify(rs.getBytes(2)));
                }
            }
        }
        Map<Long, HllSketch> byHour = new HashMap<>();
        unions.forEach((hourMs, union) -> byHour.put(hourMs, union.getResult(TgtHllType.HLL_8)));
        return byHour;
    }
}
