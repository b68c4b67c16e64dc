package io.tracerboy.edge;

import com.fasterxml.jackson.core.JsonGenerator;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tracerboy.storage.PartitionStatus;
import io.tracerboy.storage.RetentionKeeper;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * What retention keeps, as the retention thread last saw it, for {@code /metrics} and {@code /status.json}: per
 * time-partitioned table, its partitions (days, or TimescaleDB chunks), the oldest hour it still holds, and its bytes.
 */
final class RetentionReport {
    private RetentionReport() {
    }

    static void register(PrometheusRegistry registry, Supplier<RetentionKeeper.Status> status) {
        GaugeWithCallback.builder().name("tracerboy_table_partitions")
                .help("Partitions (days, or TimescaleDB chunks) of each time-partitioned table, at the last run")
                .labelNames("table").callback(cb -> status.get().tables().forEach(table -> cb.call(
                        table.partitions(), table.table()))).register(registry);
        GaugeWithCallback.builder().name("tracerboy_table_oldest_kept_seconds")
                .help("Start of the oldest hour each time-partitioned table holds, as a Unix time; absent when empty")
                .labelNames("table").callback(cb -> status.get().tables().stream()
                        .filter(table -> table.oldestMs() != Long.MAX_VALUE)
                        .forEach(table -> cb.call(table.oldestMs() / 1000.0, table.table()))).register(registry);
        GaugeWithCallback.builder().name("tracerboy_table_bytes")
                .help("Size of each time-partitioned table, indexes included, at retention's last run")
                .labelNames("table").callback(cb -> status.get().tables().forEach(table -> cb.call(
                        table.bytes(), table.table()))).register(registry);
        GaugeWithCallback.builder().name("tracerboy_retention_failing")
                .help("1 while retention's last run failed (it retries every 5 minutes), else 0")
                .callback(cb -> cb.call(status.get().failing() ? 1 : 0)).register(registry);
    }

    /** Writes the field {@code retention}: when it last ran, whether that failed, and each table. */
    static void writeJson(JsonGenerator out, RetentionKeeper.Status status) throws IOException {
        out.writeObjectFieldStart("retention");
        out.writeNumberField("ran_at_ms", status.ranAtMs());
        out.writeBooleanField("failing", status.failing());
        out.writeObjectFieldStart("tables");
        for (PartitionStatus table : status.tables()) {
            out.writeObjectFieldStart(table.table());
            out.writeNumberField("partitions", table.partitions());
            if (table.oldestMs() == Long.MAX_VALUE) {
                out.writeNullField("oldest_kept_ms");
            } else {
                out.writeNumberField("oldest_kept_ms", table.oldestMs());
            }
            out.writeNumberField("bytes", table.bytes());
            out.writeEndObject();
        }
        out.writeEndObject();
        out.writeEndObject();
    }
}
