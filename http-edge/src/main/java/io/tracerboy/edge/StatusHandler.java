package io.tracerboy.edge;

import io.tracerboy.ingest.BatchPolicy;
import io.tracerboy.ingest.BatchingConsumer;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.PipelineStats;
import io.tracerboy.storage.RetentionKeeper;
import io.undertow.server.HttpHandler;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The status page: {@code GET /status} serves one self-contained HTML page from the jar (plain SVG charts, no library,
 * nothing fetched from elsewhere), which reads {@code GET /status.json} every second. The JSON holds the same counters
 * as {@code /metrics} (and so is public like it), plus the live settings and when this server started; the page turns
 * counters into rates, and starts its charts again when the counters come from another process. Changing a setting
 * from the page goes through the admin API with the token the operator types in (kept in the page's memory only).
 */
final class StatusHandler {
    private final byte[] page;
    private final PipelineStats stats;
    private final EventRing ring;
    private final BatchingConsumer consumer;
    private final WriterPolicy policy;
    private final ReadinessHandler readiness;
    private final LiveSettings settings;
    private final TracerboyMetrics metrics;
    private final boolean adminEnabled;
    private final LongSupplier millisClock;
    private final LongSupplier nanoClock;
    private final Supplier<RetentionKeeper.Status> retention;
    /** Tells this server's counters from those of an earlier process on the same address (see the page). */
    private final String instanceId = UUID.randomUUID().toString();
    private final long startedAtMs;
    private final long startedNanos;

    /** {@code millisClock} is the server's wall clock; the uptime the page makes rates over is on {@code nanoClock}. */
    StatusHandler(PipelineStats stats, EventRing ring, BatchingConsumer consumer, WriterPolicy policy,
                  ReadinessHandler readiness,
                  LiveSettings settings, TracerboyMetrics metrics, boolean adminEnabled, LongSupplier millisClock,
                  LongSupplier nanoClock, Supplier<RetentionKeeper.Status> retention) {
        this.retention = retention;
        try (InputStream in = StatusHandler.class.getResourceAsStream("/status.html")) {
            this.page = in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("status.html is missing from the jar", e);
        }
        this.stats = stats;
        this.ring = ring;
        this.consumer = consumer;
        this.policy = policy;
        this.readiness = readiness;
        this.settings = settings;
        this.metrics = metrics;
        this.adminEnabled = adminEnabled;
        this.millisClock = millisClock;
        this.nanoClock = nanoClock;
        this.startedAtMs = millisClock.getAsLong();
        this.startedNanos = nanoClock.getAsLong();
    }

    HttpHandler page() {
        return exchange -> {
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/html; charset=utf-8");
            // The page runs only its own inline script and talks only to this origin.
            exchange.getResponseHeaders().put(Headers.CONTENT_SECURITY_POLICY, "default-src 'none'; "
                    + "script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'");
            exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
            exchange.getResponseSender().send(ByteBuffer.wrap(page));
        };
    }

    HttpHandler json() {
        return exchange -> {
            exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
            JsonReplies.send(exchange, 200, snapshot());
        };
    }

    /** Every number the page shows, as counters (the page makes rates of them) and gauges. */
    String snapshot() {
        long oldestAgeMs = TimeUnit.NANOSECONDS.toMillis(consumer.oldestUnwrittenAgeNanos());
        String notReady = readiness.notReadyReason();
        return JsonReplies.write(out -> {
            out.writeStartObject();
            out.writeNumberField("time_ms", millisClock.getAsLong());
            out.writeStringField("instance_id", instanceId);
            out.writeNumberField("started_at_ms", startedAtMs);
            out.writeNumberField("uptime_ms", TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - startedNanos));
            out.writeStringField("version", TracerboyServer.version());
            out.writeBooleanField("ready", notReady == null);
            out.writeStringField("not_ready_reason", notReady);
            out.writeBooleanField("admin_enabled", adminEnabled);
            out.writeNumberField("events_accepted", stats.accepted());
            out.writeObjectFieldStart("events_rejected");
            for (PipelineStats.Rejection reason : PipelineStats.Rejection.values()) {
                out.writeNumberField(reason.name().toLowerCase(Locale.ROOT), stats.rejected(reason));
            }
            out.writeEndObject();
            out.writeNumberField("rows_written", stats.rowsWritten());
            out.writeNumberField("events_resent", stats.resends());
            out.writeNumberField("batches_written", stats.batchesWritten());
            out.writeObjectFieldStart("flushes");
            for (BatchPolicy.Trigger trigger : BatchPolicy.Trigger.values()) {
                if (trigger != BatchPolicy.Trigger.NONE) {
                    out.writeNumberField(trigger.name().toLowerCase(Locale.ROOT), stats.flushes(trigger));
                }
            }
            out.writeEndObject();
            out.writeNumberField("write_failures", stats.writeFailures());
            out.writeBooleanField("writes_failing", stats.writesFailing());
            out.writeNumberField("dead_lettered", stats.deadLettered());
            out.writeNumberField("ring_depth", ring.depthSlots());
            out.writeNumberField("ring_capacity", ring.capacitySlots());
            out.writeNumberField("oldest_unwritten_age_ms", oldestAgeMs);
            out.writeNumberField("get_requests", metrics.getRequestsTotal());
            for (Map.Entry<String, Object> value : policy.view().entrySet()) {
                out.writeNumberField(value.getKey(), ((Number) value.getValue()).longValue());
            }
            out.writeObjectFieldStart("settings");
            for (Map.Entry<String, String> setting : settings.current().entrySet()) {
                out.writeStringField(setting.getKey(), setting.getValue());
            }
            out.writeEndObject();
            out.writeNumberField("settings_changes", settings.changes());
            RetentionReport.writeJson(out, retention.get());
            out.writeEndObject();
        });
    }
}
