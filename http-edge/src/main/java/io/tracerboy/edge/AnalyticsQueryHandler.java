package io.tracerboy.edge;

import io.tracerboy.ingest.AnalyticsQuery;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.storage.HourlyCounts;
import io.tracerboy.storage.HourlyStats;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.SameThreadExecutor;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /analytics}: validates the query on the IO thread and answers from memory when the hour is fresh there
 * ({@link HourlyStats#fresh}: read at most {@code GET_CACHE_TTL_MS} ago, this process's commits since merged in, so
 * its own writes are always visible, a committed-mode {@code 204} included); otherwise looks the hour up in
 * {@code hourly_stats} on a worker thread. Answers the three-line summary of
 * that UTC hour, or {@code 503} in its own words, never the driver's or the pool's: at once before the first migration
 * and while the database probe sees the database away, and after {@link #LOOKUP_TIMEOUT_MS} at most otherwise.
 */
final class AnalyticsQueryHandler implements HttpHandler {
    /**
     * The longest a client waits for a lookup: the probe's own timeout, after which it calls the database unreachable.
     * A lookup on a stalled database stays on its worker until the socket answers; the client does not wait for it.
     */
    static final long LOOKUP_TIMEOUT_MS = 1_000;
    static final String NOT_MIGRATED = "not ready: schema not migrated yet";
    static final String UNREACHABLE = "database unavailable: unreachable at the last check";
    static final String NO_ANSWER = "database unavailable: no answer within " + LOOKUP_TIMEOUT_MS + " ms";
    static final String LOOKUP_FAILED = "database unavailable: the lookup failed";
    private static final long FAILURE_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final Logger log = LoggerFactory.getLogger(AnalyticsQueryHandler.class);

    private final HourlyStats hourlyStats;
    private final LongSupplier millisClock;
    private final TracerboyMetrics metrics;
    private final BooleanSupplier migrated;
    private final BooleanSupplier databaseReachable;
    private final AtomicLong lastFailureLoggedNanos = new AtomicLong(System.nanoTime() - FAILURE_LOG_INTERVAL_NANOS);

    AnalyticsQueryHandler(HourlyStats hourlyStats, LongSupplier millisClock, TracerboyMetrics metrics,
                          BooleanSupplier migrated, BooleanSupplier databaseReachable) {
        this.hourlyStats = hourlyStats;
        this.millisClock = millisClock;
        this.metrics = metrics;
        this.migrated = migrated;
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
        if (!migrated.getAsBoolean()) {
            // There is no hourly_stats to read yet; say why, as /readyz does.
            unavailable(exchange, NOT_MIGRATED);
            return;
        }
        HourlyCounts fresh = hourlyStats.fresh(hourStartMs);
        if (fresh != null) {
            // Read within the time-to-live, with this process's commits merged in: answered on the IO thread.
            Replies.text(exchange, 200, body(fresh));
            metrics.getRequests.labelValues("200").inc();
            return;
        }
        if (!databaseReachable.getAsBoolean()) {
            // The probe saw the database away: answer now rather than after a connection timeout.
            unavailable(exchange, UNREACHABLE);
            return;
        }
        // Suspended, then answered once, by whichever comes first: the lookup on a worker or its deadline.
        exchange.dispatch(SameThreadExecutor.INSTANCE, () -> {
            long startNanos = System.nanoTime();
            CompletableFuture.supplyAsync(() -> read(hourStartMs),
                            exchange.getConnection().getWorker())
                    .orTimeout(LOOKUP_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .whenComplete((counts, failure) -> answer(exchange, counts, failure, startNanos));
        });
    }

    /** The three-line {@code text/plain} answer. */
    static String body(HourlyCounts counts) {
        return "unique_users," + counts.uniqueUsers() + "\nclicks," + counts.clicks() + "\nimpressions,"
                + counts.impressions() + "\n";
    }

    private HourlyCounts read(long hourStartMs) {
        try {
            return hourlyStats.read(hourStartMs);
        } catch (SQLException e) {
            throw new CompletionException(e);
        }
    }

    private void answer(HttpServerExchange exchange, HourlyCounts counts, Throwable failure, long startNanos) {
        if (failure == null) {
            Replies.text(exchange, 200, body(counts));
            metrics.getDuration.observe((System.nanoTime() - startNanos) / 1e9);
            metrics.getRequests.labelValues("200").inc();
            return;
        }
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure;
        if (cause instanceof TimeoutException) {
            unavailable(exchange, NO_ANSWER);
            return;
        }
        long nowNanos = System.nanoTime();
        long lastNanos = lastFailureLoggedNanos.get();
        if (nowNanos - lastNanos >= FAILURE_LOG_INTERVAL_NANOS && lastFailureLoggedNanos.compareAndSet(lastNanos,
                nowNanos)) {
            log.warn("GET /analytics: the lookup failed (logged at most once a minute): {}", cause.toString()
                    .lines().findFirst().orElse(""));
        } else {
            log.debug("GET /analytics: the lookup failed", cause);
        }
        unavailable(exchange, LOOKUP_FAILED);
    }

    private void unavailable(HttpServerExchange exchange, String reason) {
        metrics.getRequests.labelValues("503").inc();
        Replies.unavailable(exchange, 1, reason);
    }
}
