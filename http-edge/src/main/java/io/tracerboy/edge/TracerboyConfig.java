package io.tracerboy.edge;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The effective configuration, immutable, built once at startup from the {@link Setting} declarations: each setting is
 * read from the command line ({@code --batch-size=}), else a system property ({@code -Dtracerboy.batch-size=}), else
 * the environment ({@code BATCH_SIZE}), else its default. Every value is checked here and a bad one, an unknown name or
 * a conflict between settings stops startup with {@code NAME: expected …, found '…'}; nothing is clamped silently.
 */
public final class TracerboyConfig implements Reconfigurable.Values {
    private final Map<Setting<?>, Object> values = new IdentityHashMap<>();

    private TracerboyConfig(Map<Setting<?>, String> raw, Map<Setting<?>, String> sources) {
        for (Setting<?> setting : Setting.ALL) {
            String value = raw.get(setting);
            boolean unset = value == null || (value.isBlank() && setting.blankMeansDefault());
            values.put(setting, unset ? setting.defaultFor(this) : setting.parse(value, sources.get(setting)));
        }
        int maxBatchEvents = get(Setting.MAX_BATCH_EVENTS);
        if (maxBatchEvents > get(Setting.RING_SIZE)) {
            // A batch enters the ring whole (one claim of its slots): a larger one could never be accepted.
            throw new ConfigException(sources.get(Setting.MAX_BATCH_EVENTS) + ": expected at most RING_SIZE ("
                    + get(Setting.RING_SIZE) + "), found '" + maxBatchEvents + "'");
        }
        if (get(Setting.DB_POOL_SIZE) <= get(Setting.WRITER_LANES)) {
            // Each lane holds a connection for its whole write: with none left over, reads would wait on writes.
            throw new ConfigException(sources.get(Setting.DB_POOL_SIZE) + ": expected more than WRITER_LANES ("
                    + get(Setting.WRITER_LANES) + "), found '" + get(Setting.DB_POOL_SIZE) + "'");
        }
        if (get(Setting.EVENT_ID_RETENTION_HOURS) > get(Setting.EVENT_RETENTION_HOURS)) {
            // An id is remembered in its event's row: it cannot outlive the row. Unset, it follows a shorter one.
            if (raw.get(Setting.EVENT_ID_RETENTION_HOURS) == null) {
                values.put(Setting.EVENT_ID_RETENTION_HOURS, get(Setting.EVENT_RETENTION_HOURS));
            } else {
                throw new ConfigException(sources.get(Setting.EVENT_ID_RETENTION_HOURS)
                        + ": expected at most EVENT_RETENTION_HOURS (" + get(Setting.EVENT_RETENTION_HOURS)
                        + "), found '" + get(Setting.EVENT_ID_RETENTION_HOURS) + "'");
            }
        }
        if (get(Setting.ADMIN_TOKEN) != null && get(Setting.ADMIN_TOKEN_FILE) != null) {
            throw new ConfigException(sources.get(Setting.ADMIN_TOKEN_FILE)
                    + ": expected unset when ADMIN_TOKEN is set, found both set");
        }
    }

    /** The admin bearer token, from ADMIN_TOKEN or ADMIN_TOKEN_FILE; null when the admin API is off. */
    public String adminToken() {
        String token = get(Setting.ADMIN_TOKEN);
        return token != null ? token : get(Setting.ADMIN_TOKEN_FILE);
    }

    /** Reads the process's command line, system properties and environment. */
    public static TracerboyConfig load(String[] args) {
        return load(args, System.getProperties(), System.getenv());
    }

    /** Reads the given sources; throws {@link ConfigException} for the first bad or unknown value. */
    public static TracerboyConfig load(String[] args, Properties properties, Map<String, String> env) {
        Map<Setting<?>, String> raw = new IdentityHashMap<>();
        Map<Setting<?>, String> sources = new IdentityHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (String name : env.keySet()) {
            if (name.startsWith("TRACERBOY_")) {
                unknown.add(name);
            }
        }
        for (Setting<?> setting : Setting.ALL) {
            String value = env.get(setting.envName());
            if (value != null) {
                raw.put(setting, value);
                sources.put(setting, setting.envName());
            }
        }
        for (String name : properties.stringPropertyNames()) {
            if (name.startsWith("tracerboy.")) {
                Setting<?> setting = find(name, Setting::propertyName);
                if (setting == null) {
                    unknown.add(name);
                } else {
                    raw.put(setting, properties.getProperty(name));
                    sources.put(setting, name);
                }
            }
        }
        for (String arg : args) {
            int eq = arg.indexOf('=');
            String option = eq < 0 ? arg : arg.substring(0, eq);
            Setting<?> setting = find(option, Setting::optionName);
            if (setting == null) {
                throw new ConfigException(arg + ": unknown option; expected --option=value, see --help");
            }
            if (eq < 0) {
                throw new ConfigException(arg + ": expected a value, as " + arg + "=…");
            }
            raw.put(setting, arg.substring(eq + 1));
            sources.put(setting, option);
        }
        if (!unknown.isEmpty()) {
            unknown.sort(null);
            throw new ConfigException(unknown.get(0) + ": unknown setting; expected one of those listed by --help");
        }
        for (Setting<?> setting : Setting.ALL) {
            sources.putIfAbsent(setting, setting.envName());
        }
        return new TracerboyConfig(raw, sources);
    }

    private static Setting<?> find(String name, java.util.function.Function<Setting<?>, String> naming) {
        for (Setting<?> setting : Setting.ALL) {
            if (naming.apply(setting).equals(name)) {
                return setting;
            }
        }
        return null;
    }

    /** The effective value of {@code setting}. */
    @Override
    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting) {
        return (T) values.get(setting);
    }

    /** The values as {@code NAME=value}, secrets masked; logged once at startup. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Setting<?> setting : Setting.ALL) {
            out.put(setting.envName(), setting.shown(values.get(setting)));
        }
        return out;
    }

    /**
     * The {@code --help} text: every option with its environment variable, default, accepted values and meaning, the
     * columns as wide as the longest name.
     */
    public static String help() {
        int optionWidth = Setting.ALL.stream().mapToInt(s -> (s.optionName() + "=…").length()).max().orElse(0) + 2;
        int envWidth = Setting.ALL.stream().mapToInt(s -> s.envName().length()).max().orElse(0) + 2;
        StringBuilder out = new StringBuilder("Usage: java -jar tracerboy.jar [--option=value ...]\n\n"
                + "Each option can also be set as an environment variable or as -Dtracerboy.<option>=value.\n\n");
        String row = "  %-" + optionWidth + "s%-" + envWidth + "sdefault: %s%n      accepted: %s%n      %s%n";
        for (Setting<?> s : Setting.ALL) {
            out.append(String.format(row, s.optionName() + "=…", s.envName(), s.defaultText(), s.accepted(),
                    s.help()));
        }
        return out.toString();
    }

    static String maskUrl(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1****").replaceAll("(//[^/:@?]+:)[^@/?]*@", "$1****@");
    }
}
