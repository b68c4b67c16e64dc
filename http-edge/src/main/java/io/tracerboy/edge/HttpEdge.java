package io.tracerboy.edge;

import io.tracerboy.ingest.BatchParser;
import io.tracerboy.ingest.BatchingConsumer;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.EventWindow;
import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.HourlySeries;
import io.tracerboy.storage.HourlyStats;
import io.tracerboy.storage.RecentHours;
import io.tracerboy.storage.RetentionKeeper;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.HttpContinueReadHandler;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.xnio.Options;

/**
 * The HTTP side of the service: every handler, the one list of routes, and the Undertow server with the options that
 * bound what a client may cost. CORS wraps the two ingest endpoints and nothing else: the admin API, the status page,
 * {@code /metrics} and the probes answer no preflight and carry no {@code Access-Control-*} header.
 */
final class HttpEdge {
    private final LiveSettings settings;
    private final InFlightRequests inFlight;
    private final Undertow undertow;

    /** What the edge reads from and publishes to: built by {@link TracerboyServer} before the edge. */
    record Pipeline(EventRing ring, PipelineStats stats, ServiceState state, BatchingConsumer consumer,
                    Database database, TracerboyMetrics metrics, Supplier<RetentionKeeper.Status> retention,
                    RecentHours recentHours) {
    }

    HttpEdge(TracerboyConfig config, Pipeline pipeline, LongSupplier millisClock) {
        PipelineStats stats = pipeline.stats();
        ServiceState state = pipeline.state();
        BatchingConsumer consumer = pipeline.consumer();
        Database database = pipeline.database();
        TracerboyMetrics metrics = pipeline.metrics();
        EventWindow window = eventWindow(config);
        IngestContext intake = new IngestContext(new PublishGate(pipeline.ring(), stats, state), stats, millisClock,
                config.get(Setting.ACK_MODE), config.get(Setting.REQUEST_TIMEOUT_MS));
        IngestHandler ingest = new IngestHandler(intake, config.get(Setting.MAX_BODY_BYTES), window);
        BatchIngestHandler batchIngest = new BatchIngestHandler(intake, new BatchParser(
                config.get(Setting.MAX_BATCH_EVENTS), config.get(Setting.MAX_LINE_BYTES), window),
                config.get(Setting.MAX_BATCH_BYTES), new IdempotencyKeys(database.dataSource(),
                config.get(Setting.EVENT_ID_RETENTION_HOURS), millisClock));
        ReadinessHandler readiness = new ReadinessHandler(state, stats, database::lastKnownReachable);
        WriterPolicy writerPolicy = new WriterPolicy(consumer);
        RecentHours recentHours = pipeline.recentHours();
        HttpHandler query = new AnalyticsQueryHandler(new HourlyStats(database.dataSource(), recentHours),
                millisClock, metrics, () -> state.migrated, database::lastKnownReachable);
        Reconfigurable recentTtl = new Reconfigurable() {
            @Override
            public Set<Setting<?>> reconfigurableSettings() {
                return Set.of(Setting.GET_CACHE_TTL_MS);
            }

            @Override
            public void reconfigure(Values values) {
                recentHours.setTtlNanos(TimeUnit.MILLISECONDS.toNanos(values.get(Setting.GET_CACHE_TTL_MS)));
            }
        };
        settings = new LiveSettings(config, List.of(writerPolicy, recentTtl));
        metrics.registerLive(settings, writerPolicy);
        String adminToken = config.adminToken();
        RetentionReport.register(metrics.registry, pipeline.retention());
        StatusHandler status = new StatusHandler(stats, pipeline.ring(), consumer, writerPolicy, readiness, settings,
                metrics,
                adminToken != null, millisClock, System::nanoTime, pipeline.retention());
        HttpHandler alive = exchange -> Replies.line(exchange, 200, "alive");
        AllowedOrigins origins = config.get(Setting.CORS_ALLOWED_ORIGINS);
        // CORS outside: a refused origin is answered before anything is read. HttpContinueReadHandler sends 100
        // Continue when the handler reads the body, and drops the connection if it answers without.
        HttpHandler post = CorsHandler.text(origins, new HttpContinueReadHandler(ingest));
        HttpHandler batch = CorsHandler.json(origins, new HttpContinueReadHandler(batchIngest));
        Routes routes = new Routes();
        routes.add("/analytics", post, Methods.POST)
                .add("/analytics", withAllow(routes, "/analytics", post), Methods.OPTIONS)
                .add("/analytics", query, Methods.GET)
                .add("/analytics/series", new SeriesHandler(new HourlySeries(database.dataSource(),
                        config.get(Setting.USER_RETENTION_HOURS), recentHours), millisClock, () -> state.migrated,
                        database::lastKnownReachable), Methods.GET)
                .add("/analytics/batch", batch, Methods.POST)
                .add("/analytics/batch", withAllow(routes, "/analytics/batch", batch), Methods.OPTIONS)
                // One route for both: the versioned path is the same path with ?v=.
                .add(ScriptHandler.PATH, new ScriptHandler(), Methods.GET)
                .add("/healthz", alive, Methods.GET)
                .add("/readyz", readiness, Methods.GET)
                .add("/metrics", new MetricsHandler(metrics.registry), Methods.GET)
                .add("/status", status.page(), Methods.GET)
                .add("/status.json", status.json(), Methods.GET)
                .add("/", exchange -> {
                    exchange.setStatusCode(302);
                    exchange.getResponseHeaders().put(Headers.LOCATION, "/status");
                    exchange.endExchange();
                }, Methods.GET);
        if (adminToken != null) {
            // Off, it is not declared at all: every method on it is a 404, as on any unknown path.
            routes.add("/admin/settings", new AdminHandler(adminToken, settings, metrics.adminRefused,
                    writerPolicy::view), Methods.GET, Methods.POST);
        }
        inFlight = new InFlightRequests(routes.handler());
        undertow = Undertow.builder()
                .addHttpListener(config.get(Setting.PORT), config.get(Setting.BIND_ADDRESS))
                .setIoThreads(config.get(Setting.IO_THREADS))
                .setWorkerThreads(config.get(Setting.WORKER_THREADS))
                // Keep the raw query: AnalyticsQuery decodes it strictly and says what is wrong. Undertow's own
                // decoding maps bad UTF-8 to U+FFFD, and its request parser answers an empty 400 for a bad escape.
                .setServerOption(UndertowOptions.DECODE_URL, false)
                .setServerOption(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, true)
                // Hostile or broken clients: bounded requests, and no socket held open for free.
                .setServerOption(UndertowOptions.MAX_HEADER_SIZE, config.get(Setting.MAX_HEADER_BYTES))
                // Every handler that reads a body enforces its own limit with a 413 (RequestBodies), and
                // InFlightRequests closes rather than drains other requests' bodies. Undertow's MAX_ENTITY_SIZE is
                // 2 MiB when unset, not unlimited: past it a declared body is reset, Expect gets a bare 417, and a
                // chunked one a stack trace on stderr. Its chunked limit is fixed when the request is parsed, before
                // any handler runs (HttpTransferEncoding in 2.4.4), so it cannot be lifted per exchange; 0 is none.
                .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, 0L)
                .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, config.get(Setting.REQUEST_TIMEOUT_MS))
                .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, config.get(Setting.IDLE_TIMEOUT_MS))
                .setServerOption(UndertowOptions.IDLE_TIMEOUT, config.get(Setting.IDLE_TIMEOUT_MS))
                .setSocketOption(Options.CONNECTION_HIGH_WATER, config.get(Setting.MAX_CONNECTIONS))
                .setSocketOption(Options.CONNECTION_LOW_WATER, config.get(Setting.MAX_CONNECTIONS))
                .setHandler(inFlight)
                .build();
    }

    /**
     * An {@code OPTIONS} that is no preflight is answered with {@code Allow}: the methods the routes declare for the
     * path ({@code GET, HEAD, OPTIONS, POST} for {@code /analytics}), not those of CORS alone.
     */
    private static HttpHandler withAllow(Routes routes, String path, HttpHandler cors) {
        return exchange -> {
            exchange.getResponseHeaders().put(Headers.ALLOW, routes.allowed(path));
            cors.handleRequest(exchange);
        };
    }

    /** Events are accepted as far back as both their day and their hour's set of users are kept. */
    private static EventWindow eventWindow(TracerboyConfig config) {
        int eventHours = config.get(Setting.EVENT_RETENTION_HOURS);
        int userHours = config.get(Setting.USER_RETENTION_HOURS);
        return userHours < eventHours ? new EventWindow(userHours * Hours.HOUR_MS, "USER_RETENTION_HOURS")
                : new EventWindow(eventHours * Hours.HOUR_MS, "EVENT_RETENTION_HOURS");
    }

    /** Listens; Undertow's own exception when it cannot. */
    void start() {
        undertow.start();
    }

    /** The port actually listened on (useful with {@code PORT=0}). */
    int port() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    /** The settings that can change while running (the admin API's view). */
    LiveSettings liveSettings() {
        return settings;
    }

    /** Refuses new requests ({@code 503}), waits up to {@code timeoutMs} for those in progress, stops listening. */
    void stop(long timeoutMs) throws InterruptedException {
        inFlight.shutdown();
        inFlight.awaitIdle(timeoutMs);
        undertow.stop();
    }
}
