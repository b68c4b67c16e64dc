package io.tracerboy.edge;

import io.tracerboy.ingest.BatchPolicy;
import io.tracerboy.ingest.BatchingConsumer;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.ingest.RetryBackoff;
import io.tracerboy.storage.CopyBatchSink;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.EmbeddedDatabase;
import io.tracerboy.storage.HourlyStats;
import io.tracerboy.storage.StorageEngine;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RoutingHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.util.Headers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.Options;

/**
 * The running service: embedded or external PostgreSQL, the ring and its writer, and the Undertow server, wired in one
 * place. The schema is migrated in the background so {@code /readyz} can answer {@code 503} until it is done; events
 * posted meanwhile wait in the ring. {@link #stop()} is the graceful stop: refuse new events, finish in-flight
 * requests, write everything buffered, close.
 */
public final class TracerboyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TracerboyServer.class);
    private static final RetryBackoff BACKOFF = new RetryBackoff(100, 5_000);

    private final TracerboyConfig config;
    private final EmbeddedDatabase embedded;
    private final Database database;
    private final PipelineStats stats = new PipelineStats();
    private final ServiceState state = new ServiceState();
    private final EventRing ring;
    private final BatchingConsumer consumer;
    private final TracerboyMetrics metrics;
    private final GracefulShutdownHandler graceful;
    private final Undertow undertow;
    private final Thread migrator;
    private final CountDownLatch migrated = new CountDownLatch(1);
    private volatile Runnable onFatal = () -> { };
    private boolean closed;

    private TracerboyServer(TracerboyConfig config) throws IOException {
        this.config = config;
        String url = config.databaseUrl();
        if (url == null) {
            log.info("no DATABASE_URL: starting embedded PostgreSQL with data in {}",
                    config.embeddedDataDir().toAbsolutePath());
            embedded = EmbeddedDatabase.start(config.embeddedDataDir());
            url = embedded.jdbcUrl();
        } else {
            embedded = null;
        }
        database = new Database(url, config.databaseUser(), config.databasePassword(), config.dbPoolSize());
        ring = new EventRing(config.ringSizeSlots(), System::nanoTime, stats);
        IngestHandler ingest = new IngestHandler(ring, System::currentTimeMillis, state, config.ackMode(),
                config.maxBodyBytes());
        // The metrics read the consumer lazily (at scrape time), and the consumer reports each flush to them.
        metrics = new TracerboyMetrics(stats, ring, ingest, this::oldestUnwrittenNanos, System::nanoTime);
        consumer = new BatchingConsumer(ring,
                new BatchPolicy(config.batchSizeEvents(), TimeUnit.MILLISECONDS.toNanos(config.flushIntervalMs())),
                new CopyBatchSink(database.dataSource(), config.userCachePairs()), BACKOFF, System::nanoTime,
                Thread::sleep, stats, metrics);

        RoutingHandler routes = Handlers.routing()
                .post("/analytics", ingest)
                .get("/analytics", new AnalyticsQueryHandler(new HourlyStats(database.dataSource()),
                        System::currentTimeMillis, metrics, new HourlyCountsCache(stats::batchesWritten,
                        System::nanoTime, TimeUnit.MILLISECONDS.toNanos(config.getCacheTtlMs()))))
                .get("/healthz", exchange -> Replies.line(exchange, 200, "alive"))
                .get("/readyz", new ReadinessHandler(state, stats, database))
                .get("/metrics", new MetricsHandler(metrics.registry))
                .setFallbackHandler(exchange -> Replies.line(exchange, 404, "not found: " + exchange.getRequestPath()))
                .setInvalidMethodHandler(TracerboyServer::methodNotAllowed);
        graceful = Handlers.gracefulShutdown(routes);
        undertow = Undertow.builder()
                .addHttpListener(config.port(), config.bindAddress())
                .setIoThreads(config.ioThreads())
                .setWorkerThreads(config.workerThreads())
                // Keep the raw query: AnalyticsQuery decodes it strictly and says what is wrong. Undertow's own
                // decoding maps bad UTF-8 to U+FFFD, and its request parser answers an empty 400 for a bad escape.
                .setServerOption(UndertowOptions.DECODE_URL, false)
                .setServerOption(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, true)
                // Hostile or broken clients: bounded requests, and no socket held open for free.
                .setServerOption(UndertowOptions.MAX_HEADER_SIZE, config.maxHeaderBytes())
                .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, config.maxBodyBytes())
                .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, config.requestTimeoutMs())
                .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, config.idleTimeoutMs())
                .setServerOption(UndertowOptions.IDLE_TIMEOUT, config.idleTimeoutMs())
                .setSocketOption(Options.CONNECTION_HIGH_WATER, config.maxConnections())
                .setSocketOption(Options.CONNECTION_LOW_WATER, config.maxConnections())
                .setHandler(graceful)
                .build();
        migrator = new Thread(this::migrate, "tracerboy-migrate");
        migrator.setDaemon(true);
    }

    /** Starts the service; returns once it listens (the schema may still be migrating). */
    public static TracerboyServer start(TracerboyConfig config) throws IOException {
        TracerboyServer server = new TracerboyServer(config);
        try {
            server.undertow.start();
        } catch (RuntimeException e) {
            server.close();
            throw new IOException("cannot listen on " + config.bindAddress() + ":" + config.port() + ": "
                    + e.getMessage(), e);
        }
        log.info("tracerboy {} listening on http://{}:{}", version(), config.bindAddress(), server.port());
        server.migrator.start();
        return server;
    }

    /** Called (once, on the migration thread) when the schema cannot be migrated for a reason retrying will not fix. */
    public void onFatal(Runnable action) {
        this.onFatal = action;
    }

    private void migrate() {
        for (int attempt = 0; ; attempt++) {
            try {
                StorageEngine engine = database.migrate(config.storageEngine());
                log.info("schema migrated; storage engine: {}", engine == StorageEngine.TIMESCALEDB
                        ? "TimescaleDB (events and hourly_users are hypertables)" : "PostgreSQL (plain tables)");
                synchronized (this) {
                    if (closed) {
                        migrated.countDown();
                        return; // stop() already accounted for the ring
                    }
                    state.migrated = true;
                    consumer.start();
                }
                migrated.countDown();
                return;
            } catch (Exception e) {
                if (!state.accepting || Thread.currentThread().isInterrupted()) {
                    return; // stopping
                }
                if (!Database.isTransient(e)) {
                    String reason = rootMessage(e);
                    log.error("cannot migrate the schema: {}", reason);
                    state.fatalError = reason;
                    migrated.countDown();
                    onFatal.run();
                    return;
                }
                long delayMs = BACKOFF.delayMs(attempt);
                log.warn("database unreachable while migrating ({}); retrying in {} ms", rootMessage(e), delayMs);
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /** Waits until the schema is migrated and the writer runs; false on timeout or fatal error. */
    public boolean awaitReady(long timeoutMs) throws InterruptedException {
        return migrated.await(timeoutMs, TimeUnit.MILLISECONDS) && state.migrated;
    }

    /** The port actually listened on (useful with {@code PORT=0}). */
    public int port() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    private long oldestUnwrittenNanos() {
        return consumer.oldestUnwrittenNanos();
    }

    /** Events in the ring not yet taken by the writer. */
    public long ringDepth() {
        return ring.depthSlots();
    }

    public PipelineStats stats() {
        return stats;
    }

    /** The reason startup failed for good, or null. */
    public String fatalError() {
        return state.fatalError;
    }

    /**
     * Stops gracefully: POSTs get {@code 503}, in-flight requests finish, the ring is drained and written (for at most
     * {@code SHUTDOWN_TIMEOUT_MS} while the database fails). Answers how many accepted events could not be written.
     */
    public synchronized long stop() {
        if (closed) {
            return stats.abandoned();
        }
        closed = true;
        state.stopAccepting();
        long abandoned = 0;
        try {
            if (Thread.currentThread() != migrator) {
                migrator.interrupt();
            }
            // Write the ring first, while the IO threads still run: committed-mode requests are answered from there.
            abandoned = consumer.stop(config.shutdownTimeoutMs());
            graceful.shutdown();
            graceful.awaitShutdown(5_000);
            undertow.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
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
            log.error("stopped with {} accepted events not written: the database stayed unreachable for {} ms",
                    abandoned, config.shutdownTimeoutMs());
        } else {
            log.info("stopped: {} events written in all, none lost", stats.rowsWritten());
        }
        return abandoned;
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

    private static void methodNotAllowed(HttpServerExchange exchange) {
        String path = exchange.getRequestPath();
        exchange.getResponseHeaders().put(Headers.ALLOW, "/analytics".equals(path) ? "GET, POST" : "GET");
        Replies.line(exchange, 405, "method not allowed: " + exchange.getRequestMethod() + " " + path);
    }

    static String version() {
        String version = TracerboyServer.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.lines().findFirst().orElse(message);
    }
}
