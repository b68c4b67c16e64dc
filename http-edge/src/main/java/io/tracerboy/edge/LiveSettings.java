package io.tracerboy.edge;

import io.tracerboy.ingest.BatchPolicy;
import io.tracerboy.ingest.BatchingConsumer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings a running service may change ({@link Setting#live()}): their values now, and the one way to change them.
 * A change is validated with the rules and messages of startup, all values or none; it reaches the writer from its
 * next batch (nothing buffered is dropped or reordered) and the GET cache from its next lookup; each changed value is
 * logged once, old and new. Nothing is stored: a restart comes back to the configured values.
 */
final class LiveSettings {
    private static final Logger log = LoggerFactory.getLogger(LiveSettings.class);

    private final Map<Setting<?>, Object> values = new LinkedHashMap<>();
    private final BatchingConsumer consumer;
    private final HourlyCountsCache cache;
    private final AtomicLong changes = new AtomicLong();

    LiveSettings(TracerboyConfig config, BatchingConsumer consumer, HourlyCountsCache cache) {
        for (Setting<?> setting : Setting.changeable()) {
            values.put(setting, config.get(setting));
        }
        this.consumer = consumer;
        this.cache = cache;
    }

    /** The batch policy the settings describe. */
    static BatchPolicy policy(int batchSize, long flushIntervalMs, long targetLagMs) {
        return flushIntervalMs == Setting.AUTO ? BatchPolicy.adaptive(TimeUnit.MILLISECONDS.toNanos(targetLagMs))
                : BatchPolicy.fixed(batchSize, TimeUnit.MILLISECONDS.toNanos(flushIntervalMs));
    }

    static BatchPolicy policy(TracerboyConfig config) {
        return policy(config.get(Setting.BATCH_SIZE), config.get(Setting.FLUSH_INTERVAL_MS),
                config.get(Setting.TARGET_LAG_MS));
    }

    /** The live values as they are shown ({@code auto} for an adaptive flush interval), by name. */
    synchronized Map<String, String> current() {
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((setting, value) -> out.put(setting.envName(), setting.shown(value)));
        return out;
    }

    /** How many values have been changed since start. */
    long changes() {
        return changes.get();
    }

    /**
     * Applies {@code raw} (name to value, as in the environment), or nothing when any name or value is wrong: then a
     * {@link ConfigException} in the house form says which. Answers the names whose value actually changed.
     */
    synchronized Map<String, String> apply(Map<String, String> raw) {
        Map<Setting<?>, Object> next = new LinkedHashMap<>(values);
        for (Map.Entry<String, String> entry : raw.entrySet()) {
            Setting<?> setting = Setting.named(entry.getKey());
            if (setting == null) {
                throw new ConfigException(entry.getKey() + ": unknown setting; expected one of "
                        + String.join(", ", current().keySet()));
            }
            if (!setting.isLive()) {
                throw new ConfigException(entry.getKey() + ": cannot change while running; expected one of "
                        + String.join(", ", current().keySet()) + " (set it and restart)");
            }
            // As at startup, to the character: a value one accepts the other accepts.
            next.put(setting, setting.parse(entry.getValue(), entry.getKey()));
        }
        Map<String, String> changed = new LinkedHashMap<>();
        for (Map.Entry<Setting<?>, Object> entry : next.entrySet()) {
            Object old = values.get(entry.getKey());
            if (!old.equals(entry.getValue())) {
                Setting<?> setting = entry.getKey();
                changed.put(setting.envName(), setting.shown(entry.getValue()));
                log.info("setting changed at runtime: {} {} -> {}", setting.envName(), setting.shown(old),
                        setting.shown(entry.getValue()));
            }
        }
        if (changed.isEmpty()) {
            return changed;
        }
        values.putAll(next);
        changes.addAndGet(changed.size());
        if (changed.containsKey(Setting.BATCH_SIZE.envName())
                || changed.containsKey(Setting.FLUSH_INTERVAL_MS.envName())
                || changed.containsKey(Setting.TARGET_LAG_MS.envName())) {
            consumer.setPolicy(policy((Integer) values.get(Setting.BATCH_SIZE),
                    (Long) values.get(Setting.FLUSH_INTERVAL_MS), (Long) values.get(Setting.TARGET_LAG_MS)));
        }
        cache.setTtlNanos(TimeUnit.MILLISECONDS.toNanos((Long) values.get(Setting.GET_CACHE_TTL_MS)));
        return changed;
    }
}
