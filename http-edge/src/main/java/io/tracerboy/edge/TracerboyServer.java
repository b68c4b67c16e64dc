package io.tracerboy.edge;

import io.tracerboy.ingest.BatchPolicy;
import io.tracerboy.ingest.BatchingConsumer;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.RetryBackoff;
import io.tracerboy.storage.CopyBatchSink;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.EmbeddedDatabase;
import io.tracerboy.storage.RecentHours;
import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.storage.SchemaMigrator;
import io.tracerboy.storage.StorageEngine;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running service: embedded or external PostgreSQL, the ring and its writer, and the HTTP edge ({@link HttpEdge}),
 * wired in one place. The schema is migrated in the background ({@link SchemaMigrator}) so {@code /readyz} can answer
 * {@code 503} until it is done; events posted meanwhile wait in the ring. {@link #stop()} is the graceful stop: refuse
 * new events, write everything buffered (migrating first if need be), finish in-flight requests, close.
 */
public final class TracerboyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TracerboyServer.class);
    private static final RetryBackoff BACKOFF = new RetryBackoff(100, 5_000);
    /** How long a stop waits for requests still in progress once the ring is written. */
    private static final long IN_FLIGHT_TIMEOUT_MS = 5_000;

    private final TracerboyConfig config;
    private final EmbeddedDatabase embedded;
    private final Database database;
    private final PipelineStats stats = new PipelineStats();
    private final ServiceState state = new ServiceState();
    private final EventRing ring;
    private final BatchingConsumer consumer;
    private final SchemaMigrator migrator;
    private volatile RetentionKeeper retention;
    private final HttpEdge edge;
    private final Object lifecycle = new Object();
    private boolean stopped;

    private TracerboyServer(TracerboyConfig config, Consumer<String> onFatal, LongSupplier millisClock)
            throws IOException {
        this.config = config;
        String url = config.get(Setting.DATABASE_URL);
        if (url == null) {
            log.info("no DATABASE_URL: starting embedded PostgreSQL with data in {}",
                    config.get(Setting.EMBEDDED_DATA_DIR).toAbsolutePath());
            embedded = EmbeddedDatabase.start(config.get(Setting.EMBEDDED_DATA_DIR));
            url = embedded.jdbcUrl();
        } else {
            embedded = null;
        }
        database = new Database(url, config.get(Setting.DATABASE_USER), config.get(Setting.DATABASE_PASSWORD),
                config.get(Setting.DB_POOL_SIZE));
        // In the order events flow: ring, writer, schema; then the observers; then the HTTP edge.
        ring = new EventRing(config.get(Setting.RING_SIZE), System::nanoTime, stats, () -> state.accepting);
        BatchPolicy policy = WriterPolicy.of(config);
        RetentionKeeper.Retention kept = new RetentionKeeper.Retention(config.get(Setting.EVENT_RETENTION_HOURS),
                config.get(Setting.USER_RETENTION_HOURS), config.get(Setting.EVENT_ID_RETENTION_HOURS));
        // One sink per lane: lanes have disjoint users, so each remembers its share of the committed pairs.
        int lanes = config.get(Setting.WRITER_LANES);
        List<CopyBatchSink> sinks = new ArrayList<>();
        // What the writers commit, known at once to GET /analytics/series.
        RecentHours recentHours = new RecentHours(System::nanoTime,
                TimeUnit.MILLISECONDS.toNanos(config.get(Setting.GET_CACHE_TTL_MS)));
        for (int lane = 0; lane < lanes; lane++) {
            sinks.add(new CopyBatchSink(database.dataSource(), config.get(Setting.USER_CACHE_PAIRS) / lanes, kept,
                    millisClock, true, recentHours));
        }
        consumer = new BatchingConsumer(ring, policy, sinks, BACKOFF, System::nanoTime, Thread::sleep, stats);
        migrator = new SchemaMigrator(database, config.get(Setting.STORAGE_ENGINE), BACKOFF, System::nanoTime,
                new SchemaMigrator.Listener() {
                    @Override
                    public void onMigrated(StorageEngine.Choice choice) {
                        log.info("schema migrated; storage engine: {} ({})", choice.engine().describe(),
                                choice.reason());
                        state.migrated = true;
                        consumer.start();
                        retention = new RetentionKeeper(database.dataSource(), choice.engine(), kept, millisClock);
                        retention.start();
                    }

                    @Override
                    public void onFatal(Exception failure) {
                        String reason = fatalReason(failure);
                        log.error(reason);
                        state.fatalError = reason;
                        onFatal.accept(reason);
                    }
                });

        TracerboyMetrics metrics = new TracerboyMetrics(stats, ring, consumer::oldestUnwrittenAgeNanos);
        consumer.setFlushListener(metrics);

        edge = new HttpEdge(config, new HttpEdge.Pipeline(ring, stats, state, consumer, database, metrics,
                this::retentionStatus, recentHours), millisClock);
    }

    /**
     * Builds the service, starting the embedded database if there is one, without listening yet. {@code onFatal} is
     * called, on the migrator thread, if the schema cannot be migrated for a reason retrying will not fix.
     */
    public static TracerboyServer create(TracerboyConfig config, Consumer<String> onFatal) throws IOException {
        return create(config, onFatal, System::currentTimeMillis);
    }

    /**
     * As {@link #create(TracerboyConfig, Consumer)}, on a wall clock of the caller's ({@code millisClock}: what the
     * server reads as now for default timestamps, the current hour and the memory of committed users; durations stay
     * on {@link System#nanoTime()}). Tests pin it.
     */
    static TracerboyServer create(TracerboyConfig config, Consumer<String> onFatal, LongSupplier millisClock)
            throws IOException {
        checkPortFree(config);
        return new TracerboyServer(config, onFatal, millisClock);
    }

    /** Listens, then migrates the schema in the background; returns once it listens. */
    public void start() throws IOException {
        try {
            edge.start();
        } catch (RuntimeException e) {
            close();
            throw new IOException("cannot listen on " + config.get(Setting.BIND_ADDRESS) + ":"
                    + config.get(Setting.PORT) + ": " + e.getMessage(), e);
        }
        log.info("tracerboy {} listening on http://{}:{}", version(), config.get(Setting.BIND_ADDRESS), port());
        database.startProbe();
        migrator.start();
    }

    /** {@link #create} then {@link #start()}, with no fatal-error action (tests read {@link #fatalError()}). */
    public static TracerboyServer start(TracerboyConfig config) throws IOException {
        return start(config, System::currentTimeMillis);
    }

    /** {@link #start(TracerboyConfig)} on the wall clock {@code millisClock} (see {@link #create}). */
    static TracerboyServer start(TracerboyConfig config, LongSupplier millisClock) throws IOException {
        TracerboyServer server = create(config, reason -> { }, millisClock);
        server.start();
        return server;
    }

    /** Fails before anything else starts (the embedded database first of all) when the port is taken. */
    private static void checkPortFree(TracerboyConfig config) throws IOException {
        if (config.get(Setting.PORT) == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(config.get(Setting.BIND_ADDRESS), config.get(Setting.PORT)));
        } catch (IOException e) {
            throw new IOException("PORT: expected a free port, found " + config.get(Setting.PORT) + " in use on "
                    + config.get(Setting.BIND_ADDRESS) + " (" + e.getMessage() + ")", e);
        }
    }

    /** The one line a fatal migration failure is reported with. */
    private static String fatalReason(Exception failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof StorageEngine.UnavailableException unavailable) {
                return "STORAGE_ENGINE: expected auto or postgresql, found '"
                        + unavailable.insisted().name().toLowerCase(Locale.ROOT) + "', but "
                        + unavailable.getMessage();
            }
        }
        return "cannot migrate the schema: " + SchemaMigrator.rootMessage(failure);
    }

    /** Waits until the schema is migrated and the writer runs; false on timeout or fatal error. */
    public boolean awaitReady(long timeoutMs) throws InterruptedException {
        return migrator.awaitMigrated(timeoutMs);
    }

    /** The port actually listened on (useful with {@code PORT=0}). */
    public int port() {
        return edge.port();
    }

    /** Events in the ring not yet taken by the writer. */
    public long ringDepth() {
        return ring.depthSlots();
    }

    /** The settings that can change while running (the admin API's view). */
    LiveSettings liveSettings() {
        return edge.liveSettings();
    }

    /** What retention last did; {@link RetentionKeeper.Status#NONE} until its first run after the migration. */
    public RetentionKeeper.Status retentionStatus() {
        RetentionKeeper keeper = retention;
        return keeper == null ? RetentionKeeper.Status.NONE : keeper.status();
    }

    public PipelineStats stats() {
        return stats;
    }

    /** The reason startup failed for good, or null. */
    public String fatalError() {
        return state.fatalError;
    }

    /**
     * Stops gracefully: POSTs get {@code 503}; the ring is written, after migrating the schema if that has not happened
     * yet, for at most {@code SHUTDOWN_TIMEOUT_MS} in all while the database fails; in-flight requests finish. Answers
     * how many accepted events could not be written.
     */
    public long stop() {
        synchronized (lifecycle) {
            if (stopped) {
                return stats.abandoned();
            }
            stopped = true;
        }
        long startNanos = System.nanoTime();
        long deadlineNanos = startNanos + TimeUnit.MILLISECONDS.toNanos(config.get(Setting.SHUTDOWN_TIMEOUT_MS));
        state.stopAccepting();
        long abandoned = 0;
        try {
            // Events accepted before the first migration wait for it: keep trying until the deadline.
            if (!migrator.awaitMigrated(msUntil(deadlineNanos))) {
                migrator.cancel();
            }
            // Write the ring first, while the IO threads still run: committed-mode requests are answered from there.
            abandoned = consumer.stop(msUntil(deadlineNanos));
            edge.stop(IN_FLIGHT_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            migrator.cancel();
            if (retention != null) {
                retention.stop();
            }
            database.close();
            if (embedded != null) {
                try {
                    embedded.close();
                } catch (IOException e) {
                    log.warn("embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
                }
            }
        }
        if (abandoned > 0) {
            long inDoubt = stats.abandonedInDoubt();
            log.error("stopped with {} accepted events not written: the database stayed unreachable for {} ms{}",
                    abandoned, config.get(Setting.SHUTDOWN_TIMEOUT_MS), inDoubt == 0 ? "" : " (" + inDoubt
                            + " of them possibly "
                    + "stored: their batch's COMMIT was sent and its reply lost)");
        } else {
            log.info("stopped: {} events written in all, none lost", stats.rowsWritten());
        }
        return abandoned;
    }

    private static long msUntil(long deadlineNanos) {
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    /** First step of a graceful stop: from now on POSTs get {@code 503} and {@code /readyz} says shutting down. */
    void stopAccepting() {
        state.stopAccepting();
    }

    /** {@link #stop()}, for try-with-resources. */
    @Override
    public void close() {
        stop();
    }

    static String version() {
        String version = TracerboyServer.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
