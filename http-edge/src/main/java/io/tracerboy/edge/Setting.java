package io.tracerboy.edge;

import io.tracerboy.storage.EnginePreference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * One configurable setting, declared once: its name, how a value is parsed and checked, its default, and its help. The
 * environment variable is the name ({@code BATCH_SIZE}), the system property {@code -Dtracerboy.batch-size}, the option
 * {@code --batch-size}. {@link TracerboyConfig} reads every setting in {@link #ALL} from these; {@code --help}, the
 * effective-configuration log line and the README table (checked by a test) follow from the same declarations.
 */
public final class Setting<T> {
    /** Turns a raw value into a typed one, or null when it does not fit (the caller names the setting). */
    @FunctionalInterface
    interface Parser<T> {
        T parse(String raw);
    }

    /**
     * Parses a value that refuses in words of its own ({@code KEY: expected …, found …} naming the bad entry of a
     * list), given the name the value came by ({@code source}: variable, property or option).
     */
    @FunctionalInterface
    interface SourcedParser<T> {
        T parse(String source, String raw);
    }

    /** {@link #FLUSH_INTERVAL_MS}'s value for {@code auto}. */
    public static final long AUTO = -1;

    /** Filled by the constructor, so declaring a setting below is all it takes to add one. */
    private static final List<Setting<?>> DECLARED = new ArrayList<>();

    public static final Setting<String> DATABASE_URL = new Setting<>("DATABASE_URL", "unset: embedded PostgreSQL",
            "a JDBC URL such as jdbc:postgresql://host:5432/tracerboy?user=u&password=p",
            raw -> raw.startsWith("jdbc:postgresql://") ? raw : null, c -> null,
            "JDBC URL of PostgreSQL/TimescaleDB (jdbc:postgresql://host:5432/db)")
            .shownAs(url -> url == null ? "(embedded PostgreSQL)" : TracerboyConfig.maskUrl(url)).emptyMeansUnset();
    public static final Setting<String> DATABASE_USER = optionalText("DATABASE_USER", "from the URL",
            "database user, when not in DATABASE_URL");
    public static final Setting<String> DATABASE_PASSWORD = optionalText("DATABASE_PASSWORD", "from the URL",
            "database password, when not in DATABASE_URL (never logged)")
            .shownAs(password -> password == null ? "(from URL)" : "****");
    public static final Setting<Path> EMBEDDED_DATA_DIR = new Setting<>("EMBEDDED_DATA_DIR", "tracerboy-data",
            "a directory path", raw -> raw.isBlank() ? null : Path.of(raw), c -> Path.of("tracerboy-data"),
            "data directory of the embedded PostgreSQL (kept between runs)")
            .shownAs(path -> path.toAbsolutePath().toString());
    public static final Setting<String> BIND_ADDRESS = new Setting<>("BIND_ADDRESS", "0.0.0.0",
            "an IP address or host name", raw -> raw.isBlank() ? null : raw, c -> "0.0.0.0",
            "address the HTTP server listens on");
    public static final Setting<Integer> PORT = integer("PORT", 9090, 0, 65_535, "", "HTTP port, 0 for any free port");
    public static final Setting<Integer> BATCH_SIZE = integer("BATCH_SIZE", 10_000, 1, 1_000_000, "events",
            "most events per COPY transaction").changeableAtRuntime();
    public static final Setting<AckMode> ACK_MODE = choice("ACK_MODE", AckMode.BUFFERED,
            "buffered (204 once in memory) or committed (204 once the event's transaction committed)");
    public static final Setting<Long> FLUSH_INTERVAL_MS = new Setting<>("FLUSH_INTERVAL_MS",
            "100 ms with ACK_MODE=buffered, 0 with committed", "auto or an integer 0..60000",
            raw -> "auto".equals(raw) ? Long.valueOf(AUTO) : range(0, 60_000).parse(raw),
            c -> c.get(Setting.ACK_MODE) == AckMode.COMMITTED ? 0L : 100L,
            "longest time, in ms, an event waits in a partial batch before it is written (committed-mode clients wait "
                    + "for the commit, hence 0 there); auto: the writer chooses, to keep TARGET_LAG_MS")
            .shownAs(ms -> ms == AUTO ? "auto" : Long.toString(ms)).changeableAtRuntime();
    public static final Setting<Long> TARGET_LAG_MS = longInteger("TARGET_LAG_MS", 100, 1, 60_000, "ms",
            "with FLUSH_INTERVAL_MS=auto: the visibility lag (POST to counted) the writer keeps; BATCH_SIZE is then "
                    + "ignored").changeableAtRuntime();
    public static final Setting<Integer> RING_SIZE = new Setting<>("RING_SIZE", "262144 slots",
            "a power of two 64..67108864",
            raw -> {
                Long slots = range(64, 1 << 26).parse(raw);
                return slots == null || Long.bitCount(slots) != 1 ? null : slots.intValue();
            }, c -> 262_144, "ring buffer slots: events held while the database is slow or away");
    public static final Setting<Integer> DB_POOL_SIZE = integer("DB_POOL_SIZE", 4, 2, 200, "connections",
            "one for the writer, the rest for GET /analytics");
    public static final Setting<Integer> IO_THREADS = new Setting<>("IO_THREADS", "the number of CPU cores",
            "an integer 1..1024", raw -> toInt(range(1, 1_024).parse(raw)), c -> Runtime.getRuntime()
            .availableProcessors(), "Undertow IO threads, which parse, validate and publish POSTs");
    public static final Setting<Integer> WORKER_THREADS = integer("WORKER_THREADS", 8, 1, 1_024, "",
            "Undertow worker threads, which run the blocking GET /analytics lookups");
    public static final Setting<EnginePreference> STORAGE_ENGINE = choice("STORAGE_ENGINE", EnginePreference.AUTO,
            "auto, timescaledb, postgresql or citus: hypertables when TimescaleDB is installed and preloaded, "
                    + "distributed tables when the citus extension is created");
    public static final Setting<Long> USER_CACHE_PAIRS = longInteger("USER_CACHE_PAIRS", 1_000_000, 0, 100_000_000, "",
            "(hour, user) pairs around now the writer remembers as committed; 0 turns it off");
    public static final Setting<Long> SHUTDOWN_TIMEOUT_MS = longInteger("SHUTDOWN_TIMEOUT_MS", 30_000, 0, 3_600_000,
            "ms", "on SIGTERM, how long to keep writing buffered events while the database fails");
    public static final Setting<Integer> MAX_CONNECTIONS = integer("MAX_CONNECTIONS", 10_000, 1, 1_000_000, "",
            "open HTTP connections accepted at once; more wait in the kernel's backlog");
    public static final Setting<Integer> MAX_HEADER_BYTES = integer("MAX_HEADER_BYTES", 16_384, 1_024, 1_048_576,
            "bytes", "largest request line plus headers");
    public static final Setting<Long> MAX_BODY_BYTES = longInteger("MAX_BODY_BYTES", 65_536, 0, 1_048_576, "bytes",
            "largest request body (POST /analytics needs none)");
    public static final Setting<Integer> MAX_BATCH_BYTES = integer("MAX_BATCH_BYTES", 4_194_304, 1_024, 268_435_456,
            "bytes", "largest POST /analytics/batch body, counted after gzip decompression");
    public static final Setting<Integer> MAX_BATCH_EVENTS = new Setting<>("MAX_BATCH_EVENTS",
            "10000 events, or RING_SIZE if smaller", "an integer 1..1000000", raw -> toInt(range(1, 1_000_000)
            .parse(raw)), c -> Math.min(10_000, c.get(Setting.RING_SIZE)),
            "most events in one POST /analytics/batch; at most RING_SIZE, since a batch enters the ring whole");
    public static final Setting<Integer> MAX_LINE_BYTES = integer("MAX_LINE_BYTES", 16_384, 64, 1_048_576, "bytes",
            "longest line (one event) of a POST /analytics/batch body");
    public static final Setting<Integer> EVENT_RETENTION_HOURS = integer("EVENT_RETENTION_HOURS", 168, 1, 87_600,
            "hours", "how long raw events are kept, by whole days; events older than this (or than"
                    + " USER_RETENTION_HOURS) are refused with a 400");
    public static final Setting<Integer> USER_RETENTION_HOURS = integer("USER_RETENTION_HOURS", 168, 1, 87_600,
            "hours", "how long each hour's set of users is kept, by whole days; a late event for an hour needs it");
    public static final Setting<Integer> EVENT_ID_RETENTION_HOURS = integer("EVENT_ID_RETENTION_HOURS", 24, 1, 87_600,
            "hours", "how long event ids are remembered, by the hour of the event; a resend after that counts again;"
                    + " at most EVENT_RETENTION_HOURS, which it follows when shorter and this is unset");
    public static final Setting<Integer> REQUEST_TIMEOUT_MS = integer("REQUEST_TIMEOUT_MS", 10_000, 100, 600_000, "ms",
            "time a client has to send a whole request once it started");
    public static final Setting<Integer> IDLE_TIMEOUT_MS = integer("IDLE_TIMEOUT_MS", 60_000, 100, 3_600_000, "ms",
            "time an idle keep-alive connection stays open");
    public static final Setting<Long> GET_CACHE_TTL_MS = longInteger("GET_CACHE_TTL_MS", 50, 0, 60_000, "ms",
            "longest time a GET answer is reused, never past this process's next commit; 0 turns the cache off")
            .changeableAtRuntime();
    public static final Setting<AllowedOrigins> CORS_ALLOWED_ORIGINS = new Setting<>("CORS_ALLOWED_ORIGINS", "*",
            AllowedOrigins.ACCEPTED, (String source, String raw) -> AllowedOrigins.parse(source, raw),
            c -> AllowedOrigins.any(), "origins whose pages may POST events (CORS on /analytics and /analytics/batch "
                    + "only): * for any, or a list such as https://shop.example,https://www.shop.example");
    public static final Setting<LogFormat> LOG_FORMAT = choice("LOG_FORMAT", LogFormat.TEXT,
            "text (one line per entry) or json (one JSON object per line, for log shippers)");

    public static final Setting<String> ADMIN_TOKEN = new Setting<>("ADMIN_TOKEN", "unset: admin API off",
            "a token of 16..1024 visible ASCII characters", Setting::token, c -> null,
            "bearer token for /admin/*; unset (and no ADMIN_TOKEN_FILE): the admin API answers 404")
            .shownAs(token -> token == null ? "(unset: admin API off)" : "****").emptyMeansUnset().secret();
    public static final Setting<String> ADMIN_TOKEN_FILE = new Setting<>("ADMIN_TOKEN_FILE", "unset",
            "a readable file holding a token of 16..1024 visible ASCII characters", raw -> {
                try {
                    return token(Files.readString(Path.of(raw)).strip());
                } catch (IOException | RuntimeException e) {
                    return null;
                }
            }, c -> null, "file holding the admin token (e.g. a mounted secret), instead of ADMIN_TOKEN")
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
    private final String defaultText;
    private final String expected;
    private final SourcedParser<T> parser;
    private final Function<TracerboyConfig, T> defaultValue;
    private final String help;
    private Function<T, String> shown = String::valueOf;
    private boolean blankMeansDefault;
    private boolean live;
    private boolean secret;

    private Setting(String name, String defaultText, String expected, Parser<T> parser,
                    Function<TracerboyConfig, T> defaultValue, String help) {
        this(name, defaultText, expected, (String source, String raw) -> parser.parse(raw), defaultValue, help);
    }

    private Setting(String name, String defaultText, String expected, SourcedParser<T> parser,
                    Function<TracerboyConfig, T> defaultValue, String help) {
        this.name = name;
        this.defaultText = defaultText;
        this.expected = expected;
        this.parser = parser;
        this.defaultValue = defaultValue;
        this.help = help;
        DECLARED.add(this);
    }

    private static Setting<Integer> integer(String name, int defaultValue, int min, int max, String unit, String help) {
        return new Setting<>(name, withUnit(defaultValue, unit), "an integer " + min + ".." + max,
                raw -> toInt(range(min, max).parse(raw)), c -> defaultValue, help);
    }

    private static Setting<Long> longInteger(String name, long defaultValue, long min, long max, String unit,
                                             String help) {
        return new Setting<>(name, withUnit(defaultValue, unit), "an integer " + min + ".." + max, range(min, max),
                c -> defaultValue, help);
    }

    private static <E extends Enum<E>> Setting<E> choice(String name, E defaultValue, String help) {
        List<String> names = Stream.of(defaultValue.getDeclaringClass().getEnumConstants()).map(
                Setting::lower).toList();
        String expected = String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
        return new Setting<E>(name, lower(defaultValue), expected, raw -> Stream.of(defaultValue.getDeclaringClass()
                .getEnumConstants()).filter(e -> lower(e).equals(raw)).findFirst().orElse(null), c -> defaultValue,
                        help)
                .shownAs(Setting::lower);
    }

    private static Setting<String> optionalText(String name, String defaultText, String help) {
        return new Setting<>(name, defaultText, "text", raw -> raw, c -> null, help).shownAs(text -> text == null
                ? "(" + defaultText + ")" : text).emptyMeansUnset();
    }

    private static Parser<Long> range(long min, long max) {
        return raw -> {
            if (!raw.matches("[0-9]{1,18}")) {
                return null;
            }
            long value = Long.parseLong(raw);
            return value < min || value > max ? null : value;
        };
    }

    private static Integer toInt(Long value) {
        return value == null ? null : value.intValue();
    }

    private static String withUnit(long value, String unit) {
        return unit.isEmpty() ? Long.toString(value) : value + " " + unit;
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
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

    private static String token(String raw) {
        return raw.length() >= 16 && raw.length() <= 1_024 && raw.chars().allMatch(c -> c > ' ' && c < 127) ? raw
                : null;
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
        return expected;
    }

    /**
     * Parses {@code raw} (given by {@code source}); a {@link ConfigException} in the house form when it does not fit.
     */
    T parse(String raw, String source) {
        T value = parser.parse(source, raw);
        if (value == null) {
            String found = this == DATABASE_URL ? "'" + TracerboyConfig.maskUrl(raw) + "'"
                    : secret ? "a hidden value of " + raw.length() + " characters" : "'" + raw + "'";
            throw new ConfigException(source + ": expected " + expected + ", found " + found);
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
