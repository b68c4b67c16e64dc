package io.tracerboy.edge;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings a running service may change ({@link Setting#live()}): their values now, and the one way to change them.
 * A change is validated with the rules and messages of startup, all values or none; it reaches the writer from its
 * next batch (nothing buffered is dropped or reordered) and the GET cache from its next lookup; each changed value is
 * logged once, old and new. It reaches the {@link Reconfigurable} components that follow a changed setting, never
 * routed by name. Nothing is stored: a restart comes back to the configured values.
 */
final class LiveSettings {
    private static final Logger log = LoggerFactory.getLogger(LiveSettings.class);

    private final Map<Setting<?>, Object> values = new LinkedHashMap<>();
    private final List<Reconfigurable> components;
    private final AtomicLong changes = new AtomicLong();

    /** Every live setting must be followed by one of {@code components}, or a change would reach nothing. */
    LiveSettings(TracerboyConfig config, List<Reconfigurable> components) {
        for (Setting<?> setting : Setting.changeable()) {
            values.put(setting, config.get(setting));
            if (components.stream().noneMatch(c -> c.reconfigurableSettings().contains(setting))) {
                throw new IllegalStateException(setting.envName() + " is live but no component follows it");
            }
        }
        this.components = List.copyOf(components);
    }

    /** The live values, typed (a snapshot). */
    synchronized Map<Setting<?>, Object> values() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(values));
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
        Reconfigurable.Values typed = new Reconfigurable.Values() {
            @Override
            @SuppressWarnings("unchecked")
            public <T> T get(Setting<T> setting) {
                return (T) values.get(setting);
            }
        };
        for (Reconfigurable component : components) {
            Set<Setting<?>> followed = component.reconfigurableSettings();
            if (followed.stream().anyMatch(setting -> changed.containsKey(setting.envName()))) {
                component.reconfigure(typed);
            }
        }
        return changed;
    }
}
