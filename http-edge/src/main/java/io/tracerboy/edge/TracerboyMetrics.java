package io.tracerboy.edge;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import io.tracerboy.ingest.BatchPolicy;
import io.tracerboy.ingest.EventRing;
import io.tracerboy.ingest.FlushListener;
import io.tracerboy.ingest.PipelineStats;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The service's Prometheus metrics, on a registry of its own (so several servers in one JVM, as in tests, do not
 * collide). Counters the pipeline already keeps are exported through callbacks, read at scrape time; batch size, flush
 * duration and GET latency are histograms fed as they happen.
 */
final class TracerboyMetrics implements FlushListener {
    final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram batchSize;
    private final Histogram flushDuration;
    final Histogram getDuration;
    final Counter getRequests;
    final Counter adminRefused;

    TracerboyMetrics(PipelineStats stats, EventRing ring, LongSupplier oldestUnwrittenAgeNanos) {
        CounterWithCallback.builder().name("tracerboy_events_accepted")
                .help("Events accepted into the ring (answered 204 in buffered mode)")
                .callback(cb -> cb.call(stats.accepted())).register(registry);
        CounterWithCallback.builder().name("tracerboy_events_rejected")
                .help("POSTs refused, by reason").labelNames("reason")
                .callback(cb -> {
                    for (PipelineStats.Rejection reason : PipelineStats.Rejection.values()) {
                        cb.call(stats.rejected(reason), reason.name().toLowerCase(Locale.ROOT));
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("tracerboy_ring_capacity_events").help("Slots in the ring buffer")
                .callback(cb -> cb.call(ring.capacitySlots())).register(registry);
        GaugeWithCallback.builder().name("tracerboy_ring_depth_events")
                .help("Events in the ring not yet taken by the writer")
                .callback(cb -> cb.call(ring.depthSlots())).register(registry);
        GaugeWithCallback.builder().name("tracerboy_oldest_unwritten_event_age_seconds")
                .help("Age of the oldest accepted event not yet committed; 0 when everything is written")
                .callback(cb -> cb.call(oldestUnwrittenAgeNanos.getAsLong() / 1e9)).register(registry);
        CounterWithCallback.builder().name("tracerboy_rows_written").help("Events committed to the events table")
                .callback(cb -> cb.call(stats.rowsWritten())).register(registry);
        CounterWithCallback.builder().name("tracerboy_events_resent")
                .help("Resends: events acknowledged again but stored once, their id already stored for their hour")
                .callback(cb -> cb.call(stats.resends())).register(registry);
        CounterWithCallback.builder().name("tracerboy_write_failures")
                .help("Failed batch write attempts (each is retried with backoff)")
                .callback(cb -> cb.call(stats.writeFailures())).register(registry);
        CounterWithCallback.builder().name("tracerboy_events_dead_lettered")
                .help("Events the database refused, stored in dead_letters")
                .callback(cb -> cb.call(stats.deadLettered())).register(registry);
        CounterWithCallback.builder().name("tracerboy_events_abandoned")
                .help("Accepted events given up at shutdown because the database stayed unreachable")
                .callback(cb -> cb.call(stats.abandoned())).register(registry);
        CounterWithCallback.builder().name("tracerboy_flushes").help("Batches written, by what triggered them")
                .labelNames("trigger")
                .callback(cb -> {
                    for (BatchPolicy.Trigger trigger : BatchPolicy.Trigger.values()) {
                        if (trigger != BatchPolicy.Trigger.NONE) {
                            cb.call(stats.flushes(trigger), trigger.name().toLowerCase(Locale.ROOT));
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("tracerboy_writes_failing")
                .help("1 while database writes fail (from a failed write to the next success)")
                .callback(cb -> cb.call(stats.writesFailing() ? 1 : 0)).register(registry);
        batchSize = Histogram.builder().name("tracerboy_batch_size_events").help("Events per written batch")
                .classicUpperBounds(1, 10, 100, 1_000, 5_000, 10_000, 50_000, 100_000, 1_000_000)
                .register(registry);
        flushDuration = Histogram.builder().name("tracerboy_flush_duration_seconds").unit(Unit.SECONDS)
                .help("Time to write one batch (COPY, aggregates, commit), retries included")
                .classicUpperBounds(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
                .register(registry);
        getDuration = Histogram.builder().name("tracerboy_get_duration_seconds").unit(Unit.SECONDS)
                .help("GET /analytics lookups, from dispatch to answer")
                .classicUpperBounds(.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1)
                .register(registry);
        getRequests = Counter.builder().name("tracerboy_get_requests").help("GET /analytics requests by status")
                .labelNames("status").register(registry);
        adminRefused = Counter.builder().name("tracerboy_admin_refused")
                .help("Admin API requests refused, by reason: query_string (400), missing, malformed, empty, "
                        + "wrong (401)")
                .labelNames("reason").register(registry);
        JvmMetrics.builder().register(registry);
    }

    /**
     * Exports the live settings, whether the flush interval is {@code auto} (a state set: auto is no number), the
     * writer's linger now and the count of runtime changes.
     */
    void registerLive(LiveSettings live, WriterPolicy policy) {
        GaugeWithCallback.builder().name("tracerboy_live_setting")
                .help("Settings that can change at runtime, by name (FLUSH_INTERVAL_MS is absent while it is auto: "
                        + "see tracerboy_flush_interval_mode)").labelNames("name")
                .callback(cb -> live.values().forEach((setting, value) -> {
                    if (!(setting == Setting.FLUSH_INTERVAL_MS && policy.adaptive())) {
                        cb.call(((Number) value).doubleValue(), setting.envName());
                    }
                })).register(registry);
        registry.register(() -> StateSetSnapshot.builder().name("tracerboy_flush_interval_mode")
                .help("Whether FLUSH_INTERVAL_MS is a fixed interval or auto (the writer keeps TARGET_LAG_MS)")
                .dataPoint(StateSetSnapshot.StateSetDataPointSnapshot.builder()
                        .state("fixed", !policy.adaptive()).state("auto", policy.adaptive()).build())
                .build());
        GaugeWithCallback.builder().name("tracerboy_flush_linger_seconds")
                .help("How long the oldest event of a batch may wait now (the flush interval, or auto's choice)")
                .callback(cb -> cb.call(policy.lingerNanos() / 1e9)).register(registry);
        CounterWithCallback.builder().name("tracerboy_settings_changes")
                .help("Setting values changed at runtime through the admin API")
                .callback(cb -> cb.call(live.changes())).register(registry);
    }

    /** GET /analytics requests answered so far, any status. */
    long getRequestsTotal() {
        return (long) getRequests.collect().getDataPoints().stream().mapToDouble(p -> p.getValue()).sum();
    }

    @Override
    public void onFlush(int events, BatchPolicy.Trigger trigger, long durationNanos) {
        batchSize.observe(events);
        flushDuration.observe(durationNanos / 1e9);
    }
}
