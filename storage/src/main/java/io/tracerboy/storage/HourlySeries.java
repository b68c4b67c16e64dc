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
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;

/**
 * Reads a series of buckets of whole UTC hours, and their total: clicks and impressions summed from
 * {@code hourly_stats}; unique users of one hour from {@code hourly_stats} (exact), of several hours by
 * {@code count(DISTINCT user_id)} over {@code hourly_users} where those rows are still kept and there are at most
 * as many as the caller affords to scan (in one snapshot with the counts), and otherwise estimated from the union of
 * the hours' {@code hourly_sketches}, with its bounds. With {@link RecentHours}, answers without a {@code count
 * (DISTINCT)} come from memory where it is fresh. Thread-safe; called on Undertow worker threads.
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
    private static final String SKETCHES_OF_HOURS_SQL = "SELECT extract(epoch FROM s.hour)::bigint * 1000,"
            + " s.unique_users, k.sketch FROM hourly_stats s LEFT JOIN hourly_sketches k ON k.hour = s.hour"
            + " WHERE s.hour IN (SELECT to_timestamp(h / 1000.0) FROM unnest(?::bigint[]) AS t (h))";
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
    private final RecentHours recent;
    private final RangeEstimates estimates = new RangeEstimates();
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private final ExecutorService refresher = new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS,
            new SynchronousQueue<>(), task -> {
                Thread thread = new Thread(task, "tracerboy-series-refresh");
                thread.setDaemon(true);
                return thread;
            });

    /**
     * Every answer read from the database in one snapshot. {@code userRetentionHours}: how long {@code hourly_users}
     * is kept ({@code USER_RETENTION_HOURS}).
     */
    public HourlySeries(DataSource dataSource, int userRetentionHours) {
        this(dataSource, userRetentionHours, null);
    }

    /**
     * Answers from {@code recent} (fed by this process's writers) where it is fresh, reading the database where it is
     * not, and ahead of need once half its time-to-live has gone, so that a steady stream of requests for the same
     * hours seldom waits for the database. {@code recent} null: as above.
     */
    public HourlySeries(DataSource dataSource, int userRetentionHours, RecentHours recent) {
        this.dataSource = dataSource;
        this.userRetentionHours = userRetentionHours;
        this.recent = recent;
    }

    /**
     * The buckets between consecutive {@code boundariesMs} (UTC hour starts, increasing, at least two), as of
     * {@code nowMs} (which decides whether an hour's users are still kept), counting a range's users exactly when it
     * has at most {@code exactMaxPairs} (hour, user) pairs.
     */
    public Series read(long[] boundariesMs, long nowMs, long exactMaxPairs) throws SQLException {
        if (heldInMemory(boundariesMs)) {
            Series known = fromMemory(boundariesMs, nowMs, exactMaxPairs, true);
            if (known != null) {
                return known;
            }
        }
        return snapshot(boundariesMs, nowMs, exactMaxPairs);
    }

    /**
     * The series as {@link #read} gives it, but only if it can be answered from memory without waiting for the
     * database (every hour fresh, every sketch an estimate needs complete): it is then cheap enough to answer on an
     * I/O thread. Null otherwise, and then {@link #read} (which may block) is to be called instead.
     */
    public Series readIfInMemory(long[] boundariesMs, long nowMs, long exactMaxPairs) {
        if (!heldInMemory(boundariesMs)) {
            return null;
        }
        try {
            return fromMemory(boundariesMs, nowMs, exactMaxPairs, false);
        } catch (SQLException cannotHappen) {
            throw new IllegalStateException(cannotHappen);
        }
    }

    /** Whether {@link #recent} is there and holds as many hours as the range has. */
    private boolean heldInMemory(long[] boundariesMs) {
        return recent != null
                && (boundariesMs[boundariesMs.length - 1] - boundariesMs[0]) / Hours.HOUR_MS <= RecentHours.MAX_HOURS;
    }

    /**
     * The series from what {@link #recent} knows, reading the hours' rows first if any is not fresh, and the sketches
     * of hours an estimate needs whose union is not known to be complete (where {@code mayRead}; null if it may not);
     * null where a range is to be counted with {@code count(DISTINCT)} (which needs the pairs and the users of one
     * snapshot) or the hours were not all kept.
     */
    private Series fromMemory(long[] boundariesMs, long nowMs, long exactMaxPairs, boolean mayRead)
            throws SQLException {
        long fromMs = boundariesMs[0];
        long toMs = boundariesMs[boundariesMs.length - 1];
        long startNanos = recent.nanoTime();
        TreeMap<Long, RecentHours.Hour> fresh = recent.fresh(fromMs, toMs, startNanos);
        if (fresh == null) {
            if (!mayRead) {
                return null;
            }
            readStats(fromMs, toMs, startNanos);
            fresh = recent.fresh(fromMs, toMs, startNanos);
            if (fresh == null) {
                return null;
            }
        } else if (oldestReadAgo(fresh, startNanos) > recent.ttlNanos() / 2) {
            refreshAhead(fromMs, toMs);
        }
        TreeMap<Long, RecentHours.Hour> known = fresh;
        TreeMap<Long, HourlyCounts> hours = new TreeMap<>();
        known.forEach((hourMs, hour) -> hours.put(hourMs, hour.counts()));
        List<Range> ranges = new ArrayList<>(boundariesMs.length);
        for (int i = 0; i + 1 < boundariesMs.length; i++) {
            ranges.add(new Range(boundariesMs[i], boundariesMs[i + 1], hours, exactMaxPairs));
        }
        if (ranges.size() > 1) {
            ranges.add(new Range(fromMs, toMs, hours, exactMaxPairs));
        }
        List<Long> incomplete = new ArrayList<>();
        for (Range range : ranges) {
            if (range.distinct(nowMs)) {
                return null;
            }
            if (range.needsSketches(nowMs)) {
                range.hours.keySet().forEach(hourMs -> {
                    if (known.get(hourMs).sketchToRead()) {
                        incomplete.add(hourMs);
                    }
                });
            }
        }
        if (!incomplete.isEmpty()) {
            if (!mayRead) {
                return null;
            }
            readSketches(incomplete.stream().distinct().mapToLong(Long::longValue).toArray());
        }
        Map<Long, HllSketch> sketches = new HashMap<>();
        for (Range range : ranges) {
            if (range.needsSketches(nowMs)) {
                range.hours.keySet().forEach(hourMs -> {
                    HllSketch sketch = recent.get(hourMs).sketch();
                    if (sketch != null) {
                        sketches.put(hourMs, sketch);
                    }
                });
            }
        }
        List<Bucket> buckets = new ArrayList<>(boundariesMs.length - 1);
        for (int i = 0; i + 1 < boundariesMs.length; i++) {
            buckets.add(ranges.get(i).bucket(null, nowMs, sketches));
        }
        return new Series(buckets, ranges.size() > 1 ? ranges.get(ranges.size() - 1).bucket(null, nowMs, sketches)
                : buckets.get(0));
    }

    private static long oldestReadAgo(TreeMap<Long, RecentHours.Hour> known, long nowNanos) {
        long oldest = 0;
        for (RecentHours.Hour hour : known.values()) {
            oldest = Math.max(oldest, nowNanos - hour.readAtNanos());
        }
        return oldest;
    }

    /** Reads the hours' rows again in the background, unless a read is under way already. */
    private void refreshAhead(long fromMs, long toMs) {
        if (!refreshing.compareAndSet(false, true)) {
            return;
        }
        try {
            refresher.execute(() -> {
                try {
                    readStats(fromMs, toMs, recent.nanoTime());
                    List<Long> incomplete = new ArrayList<>();
                    for (long hourMs = fromMs; hourMs < toMs; hourMs += Hours.HOUR_MS) {
                        RecentHours.Hour hour = recent.get(hourMs);
                        if (hour.sketchToRead()) {
                            incomplete.add(hourMs);
                        }
                    }
                    if (!incomplete.isEmpty()) {
                        readSketches(incomplete.stream().mapToLong(Long::longValue).toArray());
                    }
                } catch (SQLException | RuntimeException e) {
                    // the next request finds the hours stale and reads them itself, and says so if that fails
                } finally {
                    refreshing.set(false);
                }
            });
        } catch (RejectedExecutionException busy) {
            refreshing.set(false);
        }
    }

    /** One statement: the hours' rows, each hour without one as zeros, as of a read started at {@code startNanos}. */
    private void readStats(long fromMs, long toMs, long startNanos) throws SQLException {
        TreeMap<Long, HourlyCounts> found;
        try (Connection connection = dataSource.getConnection()) {
            found = stats(connection, fromMs, toMs);
        }
        for (long hourMs = fromMs; hourMs < toMs; hourMs += Hours.HOUR_MS) {
            recent.readStats(hourMs, found.getOrDefault(hourMs, HourlyCounts.ZERO), startNanos);
        }
    }

    /** One statement: each hour's count of users and its sketch rows, united, of one snapshot. */
    private void readSketches(long[] hoursMs) throws SQLException {
        Map<Long, Union> unions = new HashMap<>();
        Map<Long, Long> users = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement(SKETCHES_OF_HOURS_SQL)) {
            query.setArray(1, PgArrays.bigints(connection, hoursMs));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    users.put(rs.getLong(1), rs.getLong(2));
                    byte[] sketch = rs.getBytes(3);
                    if (sketch != null) {
                        unions.computeIfAbsent(rs.getLong(1), h -> new Union(HourlySketches.LG_K))
                                .update(HllSketch.heapify(sketch));
                    }
                }
            }
        }
        users.forEach((hourMs, count) -> {
            Union union = unions.get(hourMs);
            recent.readSketches(hourMs, count, union == null ? null : union.getResult(TgtHllType.HLL_8));
        });
    }

    /** The series in one snapshot of the database. */
    private Series snapshot(long[] boundariesMs, long nowMs, long exactMaxPairs) throws SQLException {
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
        /** A view of the hours' counts (never changed once the ranges are made). */
        final SortedMap<Long, HourlyCounts> hours;
        final long exactMaxPairs;
        long clicks;
        long impressions;
        long pairs;
        long busiestHourUsers;

        Range(long startMs, long endMs, TreeMap<Long, HourlyCounts> all, long exactMaxPairs) {
            this.startMs = startMs;
            this.exactMaxPairs = exactMaxPairs;
            this.endMs = endMs;
            this.hours = all.subMap(startMs, endMs);
            for (HourlyCounts counts : hours.values()) {
                clicks += counts.clicks();
                impressions += counts.impressions();
                pairs += counts.uniqueUsers();
                busiestHourUsers = Math.max(busiestHourUsers, counts.uniqueUsers());
            }
        }

        /** One hour, or only one hour with users: its count is the range's. */
        boolean countable() {
            return endMs - startMs == Hours.HOUR_MS || pairs == busiestHourUsers;
        }

        /** Not countable, but few enough pairs still kept to count them with {@code count(DISTINCT)}. */
        boolean distinct(long nowMs) {
            return !countable() && startMs >= nowMs - userRetentionHours * Hours.HOUR_MS && pairs <= exactMaxPairs;
        }

        /** Neither: estimated from the hours' sketches. */
        boolean needsSketches(long nowMs) {
            return !countable() && !distinct(nowMs);
        }

        Bucket bucket(Connection connection, long nowMs, Map<Long, HllSketch> sketches) throws SQLException {
            return new Bucket(startMs, endMs, clicks, impressions, uniques(connection, nowMs, sketches));
        }

        private Uniques uniques(Connection connection, long nowMs, Map<Long, HllSketch> sketches)
                throws SQLException {
            if (countable()) {
                return Uniques.exact(pairs);
            }
            if (distinct(nowMs)) {
                try (PreparedStatement query = connection.prepareStatement(DISTINCT_SQL)) {
                    query.setLong(1, startMs / 1000);
                    query.setLong(2, endMs / 1000);
                    try (ResultSet rs = query.executeQuery()) {
                        rs.next();
                        return Uniques.exact(rs.getLong(1));
                    }
                }
            }
            List<HllSketch> parts = new ArrayList<>(hours.size());
            for (Map.Entry<Long, HourlyCounts> hour : hours.entrySet()) {
                if (hour.getValue().uniqueUsers() == 0) {
                    continue;
                }
                HllSketch sketch = sketches.get(hour.getKey());
                if (sketch == null) {
                    return Uniques.UNKNOWN;
                }
                parts.add(sketch);
            }
            HllSketch[] united = parts.toArray(new HllSketch[0]);
            // From memory (no connection) the sketches are RecentHours' own, so the last union of the same ones holds.
            RangeEstimates.Estimate union = connection == null ? estimates.estimate(startMs, endMs, united)
                    : RangeEstimates.unite(united);
            // The hours' exact counts bound it too: at least the busiest hour's users, at most all hours' added up.
            long estimate = clamp(Math.round(union.estimate()));
            long lower = clamp((long) Math.floor(union.lower()));
            long upper = clamp((long) Math.ceil(union.upper()));
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
