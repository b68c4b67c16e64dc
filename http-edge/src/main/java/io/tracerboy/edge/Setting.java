package io.tracerboy.edge;

import io.tracerboy.storage.EnginePreference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One configurable setting, declared once: its name, how a value is parsed and checked, its default, and its help. The
 * environment variable is the name ({@code BATCH_SIZE}), the system property {@code -Dtracerboy.batch-size}, the option
 * {@code --batch-size}. {@link TracerboyConfig} reads every setting in {@link #ALL} from these; {@code --help}, the
 * effective-configuration log line and the README table (checked by a test) follow from the same declarations.
 */
public final class Setting<T> {
    /** {@link #FLUSH_INTERVAL_MS}'s value for {@code auto}. */
    public static final long AUTO = -1;

    /** Filled by the constructor, so declaring a setting below is all it takes to add one. */
    private static final List<Setting<?>> DECLARED = new ArrayList<>();

    /** What the three retention settings accept (1 hour to 10 years), and the default of the two data retentions. */
    private static final Validator<Integer> RETENTION_HOURS = Validator.intRange(1, 87_600);
    private static final int DEFAULT_RETENTION_HOURS = 168;

    public static final Setting<String> DATABASE_URL = new Setting<>("DATABASE_URL", Validator.text(
            "a JDBC URL such as jdbc:postgresql://host:5432/tracerboy?user=u&password=p",
            raw -> raw.startsWith("jdbc:postgresql://")), c -> null, "unset: embedded PostgreSQL",
            "JDBC URL of PostgreSQL/TimescaleDB (jdbc:postgresql://host:5432/db)")
            .shownAs(url -> url == null ? "(embedded PostgreSQL)" : TracerboyConfig.maskUrl(url)).emptyMeansUnset();
    public static final Setting<String> DATABASE_USER = optionalText("DATABASE_USER", "from the URL",
            "database user, when not in DATABASE_URL");
    public static final Setting<String> DATABASE_PASSWORD = optionalText("DATABASE_PASSWORD", "from the URL",
            "database password, when not in DATABASE_URL (never logged)")
            .shownAs(password -> password == null ? "(from URL)" : "****");
    public static final Setting<Path> EMBEDDED_DATA_DIR = new Setting<>("EMBEDDED_DATA_DIR", Validator.of(
            "a directory path", raw -> raw.isBlank() ? null : Path.of(raw)), c -> Path.of("tracerboy-data"),
            "tracerboy-data", "data directory of the embedded PostgreSQL (kept between runs)")
            .shownAs(path -> path.toAbsolutePath().toString());
    public static final Setting<String> BIND_ADDRESS = fixed("BIND_ADDRESS", Validator.text(
            "an IP address or host name", raw -> !raw.isBlank()), "0.0.0.0", "", "address the HTTP server listens on");
    public static final Setting<Integer> PORT = fixed("PORT", Validator.intRange(0, 65_535), 9090, "",
            "HTTP port, 0 for any free port");
    public static final Setting<Integer> BATCH_SIZE = fixed("BATCH_SIZE", Validator.intRange(1, 1_000_000), 10_000,
            "events", "most events per COPY transaction").changeableAtRuntime();
    public static final Setting<AckMode> ACK_MODE = choice("ACK_MODE", AckMode.BUFFERED,
            "buffered (204 once in memory) or committed (204 once the event's transaction committed)");
    public static final Setting<Long> FLUSH_INTERVAL_MS = new Setting<>("FLUSH_INTERVAL_MS",
            Validator.or("auto", AUTO, Validator.range(0, 60_000)),
            c -> c.get(Setting.ACK_MODE) == AckMode.COMMITTED ? 0L : 100L,
            "100 ms with ACK_MODE=buffered, 0 with committed",
            "longest time, in ms, an event waits in a partial batch before it is written (committed-mode clients wait "
                    + "for the commit, hence 0 there); auto: the writer chooses, to keep TARGET_LAG_MS")
            .shownAs(ms -> ms == AUTO ? "auto" : Long.toString(ms)).changeableAtRuntime();
    public static final Setting<Long> TARGET_LAG_MS = fixed("TARGET_LAG_MS", Validator.range(1, 60_000), 100L, "ms",
            "with FLUSH_INTERVAL_MS=auto: the visibility lag (POST to counted) the writer keeps; BATCH_SIZE is then "
                    + "ignored").changeableAtRuntime();
    public static final Setting<Integer> RING_SIZE = fixed("RING_SIZE", Validator.powerOfTwo(64, 1 << 26), 262_144,
            "slots", "ring buffer slots: events held while the database is slow or away");
    public static final Setting<Integer> WRITER_LANES = fixed("WRITER_LANES", Validator.intRange(1, 16), 1, "lanes",
            "writer lanes: each batch is split by user into this many parts, written at once on as many connections");
    public static final Setting<Integer> DB_POOL_SIZE = new Setting<>("DB_POOL_SIZE", Validator.intRange(2, 200),
            c -> c.get(Setting.WRITER_LANES) + 3, "WRITER_LANES + 3 connections",
            "one per writer lane, the rest for GET /analytics, /readyz and retention; more than WRITER_LANES");
    public static final Setting<Integer> IO_THREADS = new Setting<>("IO_THREADS", Validator.intRange(1, 1_024),
            c -> Runtime.getRuntime().availableProcessors(), "the number of CPU cores",
            "Undertow IO threads, which parse, validate and publish POSTs");
    public static final Setting<Integer> WORKER_THREADS = fixed("WORKER_THREADS", Validator.intRange(1, 1_024), 8, "",
            "Undertow worker threads, which run the blocking GET /analytics lookups");
    public static final Setting<EnginePreference> STORAGE_ENGINE = choice("STORAGE_ENGINE", EnginePreference.AUTO,
            "auto, timescaledb, postgresql or citus: hypertables when TimescaleDB is installed and preloaded, "
                    + "distributed tables when the citus extension is created");
    public static final Setting<Long> USER_CACHE_PAIRS = fixed("USER_CACHE_PAIRS", Validator.range(0, 100_000_000),
            1_000_000L, "", "(hour, user) pairs around now the writer remembers as committed; 0 turns it off");
    public static final Setting<Long> SHUTDOWN_TIMEOUT_MS = fixed("SHUTDOWN_TIMEOUT_MS", Validator.range(0, 3_600_000),
            30_000L, "ms", "on SIGTERM, how long to keep writing buffered events while the database fails");
    public static final Setting<Integer> MAX_CONNECTIONS = fixed("MAX_CONNECTIONS", Validator.intRange(1, 1_000_000),
            10_000, "", "open HTTP connections accepted at once; more wait in the kernel's backlog");
    public static final Setting<Integer> MAX_HEADER_BYTES = fixed("MAX_HEADER_BYTES",
            Validator.intRange(1_024, 1_048_576), 16_384, "bytes", "largest request line plus headers");
    public static final Setting<Long> MAX_BODY_BYTES = fixed("MAX_BODY_BYTES", Validator.range(0, 1_048_576), 65_536L,
            "bytes", "largest request body (POST /analytics needs none)");
    public static final Setting<Integer> MAX_BATCH_BYTES = fixed("MAX_BATCH_BYTES",
            Validator.intRange(1_024, 268_435_456), 4_194_304, "bytes",
            "largest POST /analytics/batch body, counted after gzip decompression");
    public static final Setting<Integer> MAX_BATCH_EVENTS = new Setting<>("MAX_BATCH_EVENTS",
            Validator.intRange(1, 1_000_000), c -> Math.min(10_000, c.get(Setting.RING_SIZE)),
            "10000 events, or RING_SIZE if smaller",
            "most events in one POST /analytics/batch; at most RING_SIZE, since a batch enters the ring whole");
    public static final Setting<Integer> MAX_LINE_BYTES = fixed("MAX_LINE_BYTES", Validator.intRange(64, 1_048_576),
            16_384, "bytes", "longest line (one event) of a POST /analytics/batch body");
    public static final Setting<Integer> EVENT_RETENTION_HOURS = fixed("EVENT_RETENTION_HOURS", RETENTION_HOURS,
            DEFAULT_RETENTION_HOURS, "hours", "how long raw events are kept, by whole days; events older than this (or"
                    + " than USER_RETENTION_HOURS) are refused with a 400");
    public static final Setting<Integer> USER_RETENTION_HOURS = fixed("USER_RETENTION_HOURS", RETENTION_HOURS,
            DEFAULT_RETENTION_HOURS, "hours",
            "how long each hour's set of users is kept, by whole days; a late event for an hour needs it");
    public static final Setting<Integer> EVENT_ID_RETENTION_HOURS = fixed("EVENT_ID_RETENTION_HOURS", RETENTION_HOURS,
            24, "hours", "how long event ids are remembered, by the hour of the event; a resend after that counts "
                    + "again; at most EVENT_RETENTION_HOURS, which it follows when shorter and this is unset");
    public static final Setting<Integer> REQUEST_TIMEOUT_MS = fixed("REQUEST_TIMEOUT_MS",
            Validator.intRange(100, 600_000), 10_000, "ms",
            "time a client has to send a whole request once it started");
    public static final Setting<Integer> IDLE_TIMEOUT_MS = fixed("IDLE_TIMEOUT_MS", Validator.intRange(100, 3_600_000),
            60_000, "ms", "time an idle keep-alive connection stays open");
    public static final Setting<Long> GET_CACHE_TTL_MS = fixed("GET_CACHE_TTL_MS", Validator.range(0, 60_000), 50L,
            "ms", "longest time a GET answer is reused, never past this process's next commit; 0 turns the cache off")
            .changeableAtRuntime();
    public static final Setting<AllowedOrigins> CORS_ALLOWED_ORIGINS = new Setting<>("CORS_ALLOWED_ORIGINS",
            new Validator<>() {
                @Override
                public AllowedOrigins parse(String raw) {
                    return AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", raw);
                }

                @Override
                public AllowedOrigins parse(String source, String raw) {
                    return AllowedOrigins.parse(source, raw);
                }

                @Override
                public String describe() {
                    return AllowedOrigins.ACCEPTED;
                }
            }, c -> AllowedOrigins.any(), "*", "origins whose pages may POST events (CORS on /analytics and"
                    + " /analytics/batch only): * for any, or a list such as"
                    + " https://shop.example,https://www.shop.example");
    public static final Setting<LogFormat> LOG_FORMAT = choice("LOG_FORMAT", LogFormat.TEXT,
            "text (one line per entry) or json (one JSON object per line, for log shippers)");

    public static final Setting<String> ADMIN_TOKEN = new Setting<>("ADMIN_TOKEN", Validator.text(
            "a token of 16..1024 visible ASCII characters", Setting::isToken), c -> null, "unset: admin API off",
            "bearer token for /admin/*; unset (and no ADMIN_TOKEN_FILE): the admin API answers 404")
            .shownAs(token -> token == null ? "(unset: admin API off)" : "****").emptyMeansUnset().secret();
    public static final Setting<String> ADMIN_TOKEN_FILE = new Setting<>("ADMIN_TOKEN_FILE", Validator.of(
            "a readable file holding a token of 16..1024 visible ASCII characters", Setting::tokenInFile), c -> null,
            "unset", "file holding the admin token (e.g. a mounted secret), instead of ADMIN_TOKEN")
            .shownAs(token -> token == null ? "(unset)" : "****").emptyMeansUnset();

    /** Every setting, in declaration order: the order they are read (a default may use an earlier one) and listed. */
    public static final List<Setting<?>> ALL = List.copyOf(DECLARED);

    /** The settings {@code POST /admin/settings} may change on a running service. */
    public static List<Setting<?>> changeable() {
        return ALL.stream().filter(s -> s.live).toList();
    }

    /** The setting named {@code name} (its environment variable), or null. */
    public static Setting<?> named(String name) {
        return ALL.stream().filter(s -> s.name.equals(name)).findFirst().orElse(null);
    }

    /** How log lines are written. */
    public enum LogFormat {
        TEXT, JSON
    }

    private final String name;
    private final Validator<T> validator;
    private final Function<TracerboyConfig, T> defaultValue;
    private final String defaultText;
    private final String help;
    private Function<T, String> shown = String::valueOf;
    private boolean blankMeansDefault;
    private boolean live;
    private boolean secret;

    /** {@code defaultText}: the default as {@code --help} and the README state it, when it is not one fixed value. */
    private Setting(String name, Validator<T> validator, Function<TracerboyConfig, T> defaultValue, String defaultText,
                    String help) {
        this.name = name;
        this.validator = validator;
        this.defaultValue = defaultValue;
        this.defaultText = defaultText;
        this.help = help;
        DECLARED.add(this);
    }

    /** A setting whose default is one value, stated with its {@code unit} (or none: {@code ""}). */
    private static <T> Setting<T> fixed(String name, Validator<T> validator, T defaultValue, String unit, String help) {
        return new Setting<>(name, validator, c -> defaultValue, unit.isEmpty() ? String.valueOf(defaultValue)
                : defaultValue + " " + unit, help);
    }

    private static <E extends Enum<E>> Setting<E> choice(String name, E defaultValue, String help) {
        return new Setting<>(name, Validator.choice(defaultValue.getDeclaringClass()), c -> defaultValue,
                Validator.lower(defaultValue), help).shownAs(Validator::lower);
    }

    private static Setting<String> optionalText(String name, String defaultText, String help) {
        return new Setting<>(name, Validator.text("text", raw -> true), c -> null, defaultText, help)
                .shownAs(text -> text == null ? "(" + defaultText + ")" : text).emptyMeansUnset();
    }

    private Setting<T> shownAs(Function<T, String> render) {
        this.shown = render;
        return this;
    }

    /** May change at runtime, through {@code POST /admin/settings}. */
    private Setting<T> changeableAtRuntime() {
        this.live = true;
        return this;
    }

    /** A value never to be echoed, even in an error message. */
    private Setting<T> secret() {
        this.secret = true;
        return this;
    }

    public boolean isLive() {
        return live;
    }

    private static boolean isToken(String raw) {
        return raw.length() >= 16 && raw.length() <= 1_024 && raw.chars().allMatch(c -> c > ' ' && c < 127);
    }

    private static String tokenInFile(String path) {
        try {
            String token = Files.readString(Path.of(path)).strip();
            return isToken(token) ? token : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private Setting<T> emptyMeansUnset() {
        this.blankMeansDefault = true;
        return this;
    }

    /** True when an empty value stands for "not set" (e.g. {@code DATABASE_URL=} keeps the embedded PostgreSQL). */
    boolean blankMeansDefault() {
        return blankMeansDefault;
    }

    /** The environment variable, e.g. {@code BATCH_SIZE}. */
    public String envName() {
        return name;
    }

    /** The command-line option, e.g. {@code --batch-size}. */
    public String optionName() {
        return "--" + stem();
    }

    /** The system property, e.g. {@code tracerboy.batch-size}. */
    public String propertyName() {
        return "tracerboy." + stem();
    }

    private String stem() {
        return name.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The default as the README and {@code --help} state it, with its unit. */
    public String defaultText() {
        return defaultText;
    }

    public String help() {
        return help;
    }

    /** The values accepted, as {@code --help}, the README and a refusal state them: {@code an integer 1..1000000}. */
    public String accepted() {
        return validator.describe();
    }

    /**
     * Parses {@code raw} (given by {@code source}); a {@link ConfigException} in the house form when it does not fit.
     */
    T parse(String raw, String source) {
        T value = validator.parse(source, raw);
        if (value == null) {
            String found = this == DATABASE_URL ? "'" + TracerboyConfig.maskUrl(raw) + "'"
                    : secret ? "a hidden value of " + raw.length() + " characters" : "'" + raw + "'";
            throw new ConfigException(source + ": expected " + validator.describe() + ", found " + found);
        }
        return value;
    }

    T defaultFor(TracerboyConfig config) {
        return defaultValue.apply(config);
    }

    String shown(Object value) {
        @SuppressWarnings("unchecked")
        T typed = (T) value;
        return shown.apply(typed);
    }
}
