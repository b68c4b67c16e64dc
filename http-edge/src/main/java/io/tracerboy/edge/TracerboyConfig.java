package io.tracerboy.edge;

import io.tracerboy.storage.EnginePreference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The effective configuration, immutable, built once at startup. Each setting has an environment variable
 * ({@code BATCH_SIZE}), a system property ({@code -Dtracerboy.batch-size=}) and a command-line option
 * ({@code --batch-size=}); the command line wins over the property, which wins over the environment. Every value is
 * checked here and a bad one stops startup with {@code NAME: expected …, found '…'}; nothing is clamped silently.
 */
public final class TracerboyConfig {
    /** One configurable setting: its environment name, default (as text) and one-line description with unit. */
    public enum Setting {
        DATABASE_URL(null, "JDBC URL of PostgreSQL/TimescaleDB (jdbc:postgresql://host:5432/db); unset: embedded PostgreSQL"),
        DATABASE_USER(null, "database user, when not in DATABASE_URL"),
        DATABASE_PASSWORD(null, "database password, when not in DATABASE_URL (never logged)"),
        EMBEDDED_DATA_DIR("tracerboy-data", "data directory of the embedded PostgreSQL (kept between runs)"),
        BIND_ADDRESS("0.0.0.0", "address the HTTP server listens on"),
        PORT("9090", "HTTP port, 0 for any free port"),
        BATCH_SIZE("10000", "most events per COPY transaction"),
        FLUSH_INTERVAL_MS(null, "longest time, in milliseconds, an event waits in a partial batch before it is written; "
                + "default: 100 with ACK_MODE=buffered, 0 with ACK_MODE=committed (whose clients wait for the commit)"),
        RING_SIZE("262144", "ring buffer slots (a power of two): events held while the database is slow or away"),
        DB_POOL_SIZE("4", "database connections: one for the writer, the rest for GET /analytics and /readyz"),
        IO_THREADS(null, "Undertow IO threads; default: the number of CPU cores"),
        WORKER_THREADS("8", "Undertow worker threads, which run the blocking GET /analytics lookups"),
        STORAGE_ENGINE("auto", "auto, timescaledb or postgresql: make events a hypertable when TimescaleDB is preloaded"),
        USER_CACHE_PAIRS("1000000", "recent (hour, user) pairs the writer remembers as committed; 0 turns it off"),
        ACK_MODE("buffered", "buffered (204 once in memory) or committed (204 once the event's transaction committed)"),
        SHUTDOWN_TIMEOUT_MS("30000", "on SIGTERM, how long in milliseconds to keep writing buffered events before giving up"),
        MAX_CONNECTIONS("10000", "open HTTP connections accepted at once; more wait in the kernel's backlog"),
        MAX_HEADER_BYTES("16384", "largest request line plus headers, in bytes"),
        MAX_BODY_BYTES("65536", "largest request body, in bytes (POST /analytics needs none)"),
        REQUEST_TIMEOUT_MS("10000", "time, in milliseconds, a client has to send a whole request once it started"),
        IDLE_TIMEOUT_MS("60000", "time, in milliseconds, an idle keep-alive connection stays open"),
        GET_CACHE_TTL_MS("50", "longest time, in milliseconds, a GET answer is reused; never past this process's next "
                + "commit; bounds the lag behind other replicas' writes; 0 turns the cache off"),
        LOG_FORMAT("text", "text (one line per entry) or json (one JSON object per line, for log shippers)");

        private final String defaultValue;
        private final String description;

        Setting(String defaultValue, String description) {
            this.defaultValue = defaultValue;
            this.description = description;
        }

        public String envName() {
            return name();
        }

        public String optionName() {
            return "--" + optionStem();
        }

        private String optionStem() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public String defaultValue() {
            return defaultValue;
        }

        public String description() {
            return description;
        }
    }

    private final String databaseUrl;
    private final String databaseUser;
    private final String databasePassword;
    private final Path embeddedDataDir;
    private final String bindAddress;
    private final int port;
    private final int batchSizeEvents;
    private final long flushIntervalMs;
    private final int ringSizeSlots;
    private final int dbPoolSize;
    private final int ioThreads;
    private final int workerThreads;
    private final EnginePreference storageEngine;
    private final long userCachePairs;
    private final long shutdownTimeoutMs;
    private final AckMode ackMode;
    private final int maxConnections;
    private final int maxHeaderBytes;
    private final long maxBodyBytes;
    private final int requestTimeoutMs;
    private final int idleTimeoutMs;
    private final LogFormat logFormat;
    private final long getCacheTtlMs;

    /** How log lines are written. */
    public enum LogFormat {
        TEXT, JSON
    }

    private TracerboyConfig(Values v) {
        databaseUrl = v.databaseUrl(Setting.DATABASE_URL);
        databaseUser = v.text(Setting.DATABASE_USER);
        databasePassword = v.text(Setting.DATABASE_PASSWORD);
        embeddedDataDir = Path.of(v.nonEmpty(Setting.EMBEDDED_DATA_DIR, "a directory path"));
        bindAddress = v.nonEmpty(Setting.BIND_ADDRESS, "an IP address or host name");
        port = (int) v.integer(Setting.PORT, 0, 65_535);
        batchSizeEvents = (int) v.integer(Setting.BATCH_SIZE, 1, 1_000_000);
        ackMode = v.choice(Setting.ACK_MODE, AckMode.class);
        flushIntervalMs = v.integer(Setting.FLUSH_INTERVAL_MS, 0, 60_000, ackMode == AckMode.COMMITTED ? 0 : 100);
        ringSizeSlots = v.powerOfTwo(Setting.RING_SIZE, 1 << 6, 1 << 26);
        dbPoolSize = (int) v.integer(Setting.DB_POOL_SIZE, 2, 200);
        ioThreads = (int) v.integer(Setting.IO_THREADS, 1, 1_024, Runtime.getRuntime().availableProcessors());
        workerThreads = (int) v.integer(Setting.WORKER_THREADS, 1, 1_024);
        storageEngine = v.choice(Setting.STORAGE_ENGINE, EnginePreference.class);
        userCachePairs = v.integer(Setting.USER_CACHE_PAIRS, 0, 100_000_000);
        shutdownTimeoutMs = v.integer(Setting.SHUTDOWN_TIMEOUT_MS, 0, 3_600_000);
        maxConnections = (int) v.integer(Setting.MAX_CONNECTIONS, 1, 1_000_000);
        maxHeaderBytes = (int) v.integer(Setting.MAX_HEADER_BYTES, 1_024, 1_048_576);
        maxBodyBytes = v.integer(Setting.MAX_BODY_BYTES, 0, 1_048_576);
        requestTimeoutMs = (int) v.integer(Setting.REQUEST_TIMEOUT_MS, 100, 600_000);
        idleTimeoutMs = (int) v.integer(Setting.IDLE_TIMEOUT_MS, 100, 3_600_000);
        logFormat = v.choice(Setting.LOG_FORMAT, LogFormat.class);
        getCacheTtlMs = v.integer(Setting.GET_CACHE_TTL_MS, 0, 60_000);
    }

    /** Reads the process's command line, system properties and environment. */
    public static TracerboyConfig load(String[] args) {
        return load(args, System.getProperties(), System.getenv());
    }

    /** Reads the given sources; throws {@link ConfigException} for the first bad or unknown value. */
    public static TracerboyConfig load(String[] args, Properties properties, Map<String, String> env) {
        return new TracerboyConfig(new Values(args, properties, env));
    }

    /** The values as {@code NAME=value} lines, the password masked; logged once at startup. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("DATABASE_URL", databaseUrl == null ? "(embedded PostgreSQL)" : maskUrl(databaseUrl));
        out.put("DATABASE_USER", databaseUser == null ? "(from URL)" : databaseUser);
        out.put("DATABASE_PASSWORD", databasePassword == null ? "(from URL)" : "****");
        if (databaseUrl == null) {
            out.put("EMBEDDED_DATA_DIR", embeddedDataDir.toAbsolutePath().toString());
        }
        out.put("BIND_ADDRESS", bindAddress);
        out.put("PORT", Integer.toString(port));
        out.put("BATCH_SIZE", Integer.toString(batchSizeEvents));
        out.put("FLUSH_INTERVAL_MS", Long.toString(flushIntervalMs));
        out.put("RING_SIZE", Integer.toString(ringSizeSlots));
        out.put("DB_POOL_SIZE", Integer.toString(dbPoolSize));
        out.put("IO_THREADS", Integer.toString(ioThreads));
        out.put("WORKER_THREADS", Integer.toString(workerThreads));
        out.put("STORAGE_ENGINE", storageEngine.name().toLowerCase(Locale.ROOT));
        out.put("USER_CACHE_PAIRS", Long.toString(userCachePairs));
        out.put("ACK_MODE", ackMode.name().toLowerCase(Locale.ROOT));
        out.put("SHUTDOWN_TIMEOUT_MS", Long.toString(shutdownTimeoutMs));
        out.put("MAX_CONNECTIONS", Integer.toString(maxConnections));
        out.put("MAX_HEADER_BYTES", Integer.toString(maxHeaderBytes));
        out.put("MAX_BODY_BYTES", Long.toString(maxBodyBytes));
        out.put("REQUEST_TIMEOUT_MS", Integer.toString(requestTimeoutMs));
        out.put("IDLE_TIMEOUT_MS", Integer.toString(idleTimeoutMs));
        out.put("GET_CACHE_TTL_MS", Long.toString(getCacheTtlMs));
        out.put("LOG_FORMAT", logFormat.name().toLowerCase(Locale.ROOT));
        return out;
    }

    /** The {@code --help} text: every option with its environment variable, default and meaning. */
    public static String help() {
        StringBuilder out = new StringBuilder("Usage: java -jar tracerboy.jar [--option=value ...]\n\n"
                + "Each option can also be set as an environment variable or as -Dtracerboy.<option>=value.\n\n");
        for (Setting s : Setting.values()) {
            out.append(String.format("  %-24s %-20s default: %s%n      %s%n", s.optionName() + "=…", s.envName(),
                    s.defaultValue() == null ? "see below" : s.defaultValue(), s.description()));
        }
        return out.toString();
    }

    static String maskUrl(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1****").replaceAll("(//[^/:@?]+:)[^@/?]*@", "$1****@");
    }

    public String databaseUrl() {
        return databaseUrl;
    }

    public String databaseUser() {
        return databaseUser;
    }

    public String databasePassword() {
        return databasePassword;
    }

    public Path embeddedDataDir() {
        return embeddedDataDir;
    }

    public String bindAddress() {
        return bindAddress;
    }

    public int port() {
        return port;
    }

    public int batchSizeEvents() {
        return batchSizeEvents;
    }

    public long flushIntervalMs() {
        return flushIntervalMs;
    }

    public int ringSizeSlots() {
        return ringSizeSlots;
    }

    public int dbPoolSize() {
        return dbPoolSize;
    }

    public int ioThreads() {
        return ioThreads;
    }

    public int workerThreads() {
        return workerThreads;
    }

    public EnginePreference storageEngine() {
        return storageEngine;
    }

    public long userCachePairs() {
        return userCachePairs;
    }

    public long shutdownTimeoutMs() {
        return shutdownTimeoutMs;
    }

    public AckMode ackMode() {
        return ackMode;
    }

    public int maxConnections() {
        return maxConnections;
    }

    public int maxHeaderBytes() {
        return maxHeaderBytes;
    }

    public long maxBodyBytes() {
        return maxBodyBytes;
    }

    public int requestTimeoutMs() {
        return requestTimeoutMs;
    }

    public int idleTimeoutMs() {
        return idleTimeoutMs;
    }

    public LogFormat logFormat() {
        return logFormat;
    }

    public long getCacheTtlMs() {
        return getCacheTtlMs;
    }

    /** Raw values by setting, with the name of the source each came from, for messages. */
    private static final class Values {
        private final Map<Setting, String> raw = new LinkedHashMap<>();
        private final Map<Setting, String> source = new LinkedHashMap<>();

        Values(String[] args, Properties properties, Map<String, String> env) {
            for (Setting s : Setting.values()) {
                String value = env.get(s.envName());
                if (value != null) {
                    raw.put(s, value);
                    source.put(s, s.envName());
                }
            }
            List<String> unknown = new ArrayList<>();
            for (String name : env.keySet()) {
                if (name.startsWith("TRACERBOY_")) {
                    unknown.add(name);
                }
            }
            for (String name : properties.stringPropertyNames()) {
                if (!name.startsWith("tracerboy.")) {
                    continue;
                }
                Setting s = byStem(name.substring("tracerboy.".length()));
                if (s == null) {
                    unknown.add(name);
                } else {
                    raw.put(s, properties.getProperty(name));
                    source.put(s, name);
                }
            }
            for (String arg : args) {
                int eq = arg.indexOf('=');
                Setting s = arg.startsWith("--") && eq > 2 ? byStem(arg.substring(2, eq)) : null;
                if (s == null && eq < 0 && arg.startsWith("--") && byStem(arg.substring(2)) != null) {
                    throw new ConfigException(arg + ": expected a value, as " + arg + "=…");
                }
                if (s == null) {
                    throw new ConfigException(arg + ": unknown option; expected --option=value, see --help");
                }
                raw.put(s, arg.substring(eq + 1));
                source.put(s, arg.substring(0, eq));
            }
            if (!unknown.isEmpty()) {
                unknown.sort(null);
                throw new ConfigException(unknown.get(0) + ": unknown setting; expected one of those listed by --help");
            }
        }

        private static Setting byStem(String stem) {
            for (Setting s : Setting.values()) {
                if (s.optionStem().equals(stem)) {
                    return s;
                }
            }
            return null;
        }

        String text(Setting s) {
            String value = raw.get(s);
            return value == null ? s.defaultValue() : value;
        }

        private String name(Setting s) {
            return source.getOrDefault(s, s.envName());
        }

        private ConfigException bad(Setting s, String expected, String found) {
            return new ConfigException(name(s) + ": expected " + expected + ", found '" + found + "'");
        }

        String nonEmpty(Setting s, String expected) {
            String value = text(s);
            if (value == null || value.isBlank()) {
                throw bad(s, expected, value == null ? "" : value);
            }
            return value;
        }

        String databaseUrl(Setting s) {
            String value = raw.get(s);
            if (value == null || value.isEmpty()) {
                return null;
            }
            if (!value.startsWith("jdbc:postgresql://")) {
                throw bad(s, "a JDBC URL such as jdbc:postgresql://host:5432/tracerboy?user=u&password=p", maskUrl(value));
            }
            return value;
        }

        long integer(Setting s, long min, long max) {
            return integer(s, min, max, Long.MIN_VALUE);
        }

        long integer(Setting s, long min, long max, long fallback) {
            String value = text(s);
            if (value == null && fallback != Long.MIN_VALUE) {
                return fallback;
            }
            return inRange(s, value, min, max, "an integer " + min + ".." + max);
        }

        int powerOfTwo(Setting s, int min, int max) {
            String expected = "a power of two " + min + ".." + max;
            String value = text(s);
            long parsed = inRange(s, value, min, max, expected);
            if (Long.bitCount(parsed) != 1) {
                throw bad(s, expected, value);
            }
            return (int) parsed;
        }

        private long inRange(Setting s, String value, long min, long max, String expected) {
            if (value == null || !value.matches("[0-9]{1,18}")) {
                throw bad(s, expected, value == null ? "" : value);
            }
            long parsed = Long.parseLong(value);
            if (parsed < min || parsed > max) {
                throw bad(s, expected, value);
            }
            return parsed;
        }

        <E extends Enum<E>> E choice(Setting s, Class<E> type) {
            String value = text(s);
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                String name = e.name().toLowerCase(Locale.ROOT);
                if (name.equals(value)) {
                    return e;
                }
                names.add(name);
            }
            String expected = String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
            throw bad(s, expected, value == null ? "" : value);
        }
    }
}
