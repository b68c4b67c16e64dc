package io.tracerboy.edge;

import io.tracerboy.ingest.AnalyticsQuery;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.storage.HourlyCounts;
import io.tracerboy.storage.HourlyStats;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /analytics}: validates the query on the IO thread and answers from the {@link HourlyCountsCache} when it
 * is current; otherwise dispatches to a worker thread for the primary-key lookup in {@code hourly_stats}. Answers the
 * three-line summary of that UTC hour.
 */
final class AnalyticsQueryHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(AnalyticsQueryHandler.class);

    private final HourlyStats hourlyStats;
    private final LongSupplier millisClock;
    private final TracerboyMetrics metrics;
    private final HourlyCountsCache cache;
    private final BooleanSupplier databaseReachable;

    AnalyticsQueryHandler(HourlyStats hourlyStats, LongSupplier millisClock, TracerboyMetrics metrics,
                          HourlyCountsCache cache, BooleanSupplier databaseReachable) {
        this.hourlyStats = hourlyStats;
        this.millisClock = millisClock;
        this.metrics = metrics;
        this.cache = cache;
        this.databaseReachable = databaseReachable;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        long hourStartMs;
        try {
            hourStartMs = AnalyticsQuery.parseHourStartMs(exchange.getQueryString(), millisClock.getAsLong());
        } catch (InvalidRequestException bad) {
            metrics.getRequests.labelValues("400").inc();
            Replies.line(exchange, 400, bad.getMessage());
            return;
        }
        HourlyCounts cached = cache.get(hourStartMs);
        if (cached != null) {
            // Current as of this process's last commit: answered on the IO thread, no database round trip.
            Replies.text(exchange, 200, body(cached));
            metrics.getRequests.labelValues("200").inc();
            return;
        }
        if (!databaseReachable.getAsBoolean()) {
            // The probe saw the database away: answer now rather than after a connection timeout.
            metrics.getRequests.labelValues("503").inc();
            Replies.unavailable(exchange, 1, "database unavailable: unreachable at the last check");
            return;
        }
        exchange.dispatch(() -> answer(exchange, hourStartMs));
    }

    /** The three-line {@code text/plain} answer. */
    static String body(HourlyCounts counts) {
        return "unique_users," + counts.uniqueUsers() + "\nclicks," + counts.clicks() + "\nimpressions,"
                + counts.impressions() + "\n";
    }

    private void answer(HttpServerExchange exchange, long hourStartMs) {
        long startNanos = System.nanoTime();
        long generation = cache.generation();
        HourlyCounts counts;
        try {
            counts = hourlyStats.read(hourStartMs);
            cache.put(hourStartMs, counts, generation, startNanos);
        } catch (SQLException e) {
            log.debug("GET /analytics failed", e);
            metrics.getRequests.labelValues("503").inc();
            Replies.unavailable(exchange, 1, "database unavailable: " + e.getMessage().lines().findFirst().orElse(""));
            return;
        }
        Replies.text(exchange, 200, body(counts));
        metrics.getDuration.observe((System.nanoTime() - startNanos) / 1e9);
        metrics.getRequests.labelValues("200").inc();
    }
}
