package io.tracerboy.edge;

import io.tracerboy.ingest.AdaptiveBatchPolicy;
import io.tracerboy.ingest.BatchPolicy;
import io.tracerboy.ingest.BatchingConsumer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The writer's batch policy as the settings describe it: {@code BATCH_SIZE} and {@code FLUSH_INTERVAL_MS} for a
 * fixed policy, {@code TARGET_LAG_MS} for {@code auto}. Built once from the configuration, rebuilt and handed to the
 * consumer (from its next batch) when one of the three changes; the one place the status page, the admin API and the
 * metrics read the policy's view from.
 */
final class WriterPolicy implements Reconfigurable {
    private final BatchingConsumer consumer;

    WriterPolicy(BatchingConsumer consumer) {
        this.consumer = consumer;
    }

    /** The batch policy the settings describe. */
    static BatchPolicy of(Values values) {
        long flushIntervalMs = values.get(Setting.FLUSH_INTERVAL_MS);
        return flushIntervalMs == Setting.AUTO
                ? BatchPolicy.adaptive(TimeUnit.MILLISECONDS.toNanos(values.get(Setting.TARGET_LAG_MS)))
                : BatchPolicy.fixed(values.get(Setting.BATCH_SIZE), TimeUnit.MILLISECONDS.toNanos(flushIntervalMs));
    }

    @Override
    public Set<Setting<?>> reconfigurableSettings() {
        return Set.of(Setting.BATCH_SIZE, Setting.FLUSH_INTERVAL_MS, Setting.TARGET_LAG_MS);
    }

    @Override
    public void reconfigure(Values values) {
        consumer.setPolicy(of(values));
    }

    /** Whether the flush interval is {@code auto} (the writer chooses its linger for a target lag). */
    boolean adaptive() {
        return consumer.policy() instanceof AdaptiveBatchPolicy;
    }

    /** How long the oldest event of a batch may wait now. */
    long lingerNanos() {
        return consumer.policy().lingerNanos();
    }

    /** The policy as {@code /status.json} and the admin API show it: {@code linger_ms}, {@code batch_size_limit}. */
    Map<String, Object> view() {
        BatchPolicy policy = consumer.policy();
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("linger_ms", TimeUnit.NANOSECONDS.toMillis(policy.lingerNanos()));
        view.put("batch_size_limit", policy.batchSizeEvents());
        return view;
    }
}
