package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Reads the per-hour aggregates for {@code GET /analytics}: one primary-key lookup in {@code hourly_stats}, never a
 * scan of {@code events}. With {@link RecentHours}, an hour read is answered from memory while fresh there
 * ({@link #fresh}), and the hours asked for within {@link #WATCH_NANOS} are read again together, in one statement,
 * every half time-to-live while requests keep coming — so an hour a dashboard asks for a few times a second (past
 * hours, under the time-to-live's rate) stays in memory instead of costing a database round trip each time, and
 * still lags other replicas by at most {@code GET_CACHE_TTL_MS}. Thread-safe; {@link #fresh} on I/O threads,
 * {@link #read} on worker threads.
 */
public final class HourlyStats {
    /** Hours asked for within this long are kept fresh. */
    static final long WATCH_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Most hours kept fresh at once; past it, the hour asked for longest ago is no longer kept fresh. */
    static final int MAX_WATCHED = 256;
    private static final String SQL =
            "SELECT unique_users, clicks, impressions FROM hourly_stats WHERE hour = to_timestamp(?)";
    private static final String OF_HOURS_SQL = "SELECT extract(epoch FROM hour)::bigint * 1000, unique_users,"
            + " clicks, impressions FROM hourly_stats"
            + " WHERE hour IN (SELECT to_timestamp(h / 1000.0) FROM unnest(?::bigint[]) AS t (h))";

    private final DataSource dataSource;
    private final RecentHours recent;
    private final Executor refresher;
    private final ConcurrentHashMap<Long, Long> askedAtNanos = new ConcurrentHashMap<>();
    private final AtomicBoolean refreshing = new AtomicBoolean();
    /** When the watched hours were last read ahead of need ({@link Long#MIN_VALUE}: never). */
    private final AtomicLong lastRefreshNanos = new AtomicLong(Long.MIN_VALUE);

    /** Every answer read from the database. */
    public HourlyStats(DataSource dataSource) {
        this.dataSource = dataSource;
        this.recent = null;
        this.refresher = Runnable::run;
    }

    /** Answers from {@code recent} where it can, and keeps the hours asked for fresh there on a thread of its own. */
    public HourlyStats(DataSource dataSource, RecentHours recent) {
        this(dataSource, recent, new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS, new SynchronousQueue<>(), task -> {
            Thread thread = new Thread(task, "tracerboy-hours-refresh");
            thread.setDaemon(true);
            return thread;
        }));
    }

    /** {@code refresher}: where the reads ahead of need run ({@code Runnable::run} in tests). */
    HourlyStats(DataSource dataSource, RecentHours recent, Executor refresher) {
        this.dataSource = dataSource;
        this.recent = recent;
        this.refresher = refresher;
    }

    /**
     * The hour's counts from memory if fresh there, else null (then {@link #read} it); either way the hour is now
     * watched, and the watched hours are read again if half a time-to-live has passed since they last were.
     */
    public HourlyCounts fresh(long hourStartMs) {
        if (recent == null) {
            return null;
        }
        long nowNanos = recent.nanoTime();
        if (askedAtNanos.size() >= MAX_WATCHED && !askedAtNanos.containsKey(hourStartMs)) {
            // Full: the hour asked for longest ago makes room, so hours asked once cannot keep out those asked often.
            askedAtNanos.entrySet().stream().min(Map.Entry.comparingByValue((a, b) -> Long.compare(a - nowNanos,
                    b - nowNanos))).ifPresent(oldest -> askedAtNanos.remove(oldest.getKey(), oldest.getValue()));
        }
        askedAtNanos.put(hourStartMs, nowNanos);
        HourlyCounts counts = recent.freshCounts(hourStartMs);
        refreshIfDue(nowNanos);
        return counts;
    }

    /** The counts of the hour starting at {@code hourStartMs}; zeros for an hour with no events. */
    public HourlyCounts read(long hourStartMs) throws SQLException {
        long startNanos = recent != null ? recent.nanoTime() : 0;
        HourlyCounts counts;
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement(SQL)) {
            query.setLong(1, hourStartMs / 1000);
            try (ResultSet rs = query.executeQuery()) {
                counts = rs.next() ? new HourlyCounts(rs.getLong(1), rs.getLong(2), rs.getLong(3)) : HourlyCounts.ZERO;
            }
        }
        if (recent != null) {
            recent.readStats(hourStartMs, counts, startNanos);
        }
        return counts;
    }

    /** The hours being kept fresh (for tests). */
    int watched() {
        return askedAtNanos.size();
    }

    private void refreshIfDue(long nowNanos) {
        // Due by the time-to-live of now, so that lowering it at runtime takes effect at the next request.
        long halfTtl = recent.ttlNanos() / 2;
        long last = lastRefreshNanos.get();
        if (halfTtl == 0 || last != Long.MIN_VALUE && nowNanos - last < halfTtl
                || !lastRefreshNanos.compareAndSet(last, nowNanos) || !refreshing.compareAndSet(false, true)) {
            return;
        }
        try {
            refresher.execute(() -> {
                try {
                    readWatched(nowNanos);
                } catch (SQLException | RuntimeException e) {
                    // the hours go stale, and the next request for one reads it itself (and says so if that fails)
                } finally {
                    refreshing.set(false);
                }
            });
        } catch (RejectedExecutionException busy) {
            refreshing.set(false);
        }
    }

    /** One statement for every hour asked for within {@link #WATCH_NANOS} of {@code nowNanos}. */
    private void readWatched(long nowNanos) throws SQLException {
        askedAtNanos.entrySet().removeIf(asked -> nowNanos - asked.getValue() > WATCH_NANOS);
        long[] hours = askedAtNanos.keySet().stream().mapToLong(Long::longValue).toArray();
        if (hours.length == 0) {
            return;
        }
        long startNanos = recent.nanoTime();
        Map<Long, HourlyCounts> found = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement(OF_HOURS_SQL)) {
            query.setArray(1, PgArrays.bigints(connection, hours));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getLong(1), new HourlyCounts(rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
        }
        for (long hourMs : hours) {
            recent.readStats(hourMs, found.getOrDefault(hourMs, HourlyCounts.ZERO), startNanos);
        }
    }
}
