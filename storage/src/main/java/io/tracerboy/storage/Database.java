package io.tracerboy.storage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tracerboy.storage.migration.V2__Hypertables;
import io.tracerboy.storage.migration.V3__EventIds;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool (HikariCP over pgjdbc) and the schema (Flyway). One per process; thread-safe.
 */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);
    /** How often the reachability probe checks, and so how stale {@link #lastKnownReachable()} can be. */
    public static final long PROBE_INTERVAL_MS = 1_000;
    private static final long CONNECTION_TIMEOUT_MS = 2_000;
    private static final long VALIDATION_TIMEOUT_MS = 1_000;
    private static final int PROBE_TIMEOUT_SECONDS = 1;

    private final HikariDataSource pool;
    private final String jdbcUrl;
    private final Properties credentials = new Properties();
    private final Properties probeProperties = new Properties();
    private final Thread probe;
    private volatile boolean reachable = true;
    private Connection probeConnection;

    /**
     * Opens a pool of {@code poolSize} connections to {@code jdbcUrl}; connects lazily, so a database still down is
     * fine.
     */
    public Database(String jdbcUrl, String user, String password, int poolSize) {
        this.jdbcUrl = jdbcUrl;
        HikariConfig config = new HikariConfig();
        config.setPoolName("tracerboy");
        config.setJdbcUrl(jdbcUrl);
        if (user != null) {
            config.setUsername(user);
        }
        if (password != null) {
            config.setPassword(password);
        }
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(Math.min(2, poolSize));
        // Fail fast while the database is away: the writer retries with its own backoff, GETs answer 503.
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        config.setValidationTimeout(VALIDATION_TIMEOUT_MS);
        config.setInitializationFailTimeout(-1);
        // Configured, not detected: HikariCP reads the default from its first connection, and if that connection dies
        // meanwhile it keeps -1 and sets it on every later one (HikariCP #887), failing them all. Found by the storm.
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.addDataSourceProperty("tcpKeepAlive", "true");
        config.addDataSourceProperty("ApplicationName", "tracerboy");
        this.pool = new HikariDataSource(config);
        if (user != null) {
            credentials.setProperty("user", user);
        }
        if (password != null) {
            credentials.setProperty("password", password);
        }
        probeProperties.putAll(credentials);
        probeProperties.setProperty("connectTimeout", Integer.toString(PROBE_TIMEOUT_SECONDS));
        probeProperties.setProperty("socketTimeout", Integer.toString(PROBE_TIMEOUT_SECONDS + 1));
        probeProperties.setProperty("ApplicationName", "tracerboy-probe");
        this.probe = new Thread(this::probeLoop, "tracerboy-db-probe");
        this.probe.setDaemon(true);
    }

    /** A connection outside the pool, for work that may lose its connection (the TimescaleDB probe). */
    private Connection openUnpooled() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, credentials);
    }

    /**
     * Starts checking, every {@link #PROBE_INTERVAL_MS}, that the database answers, on a connection of its own (a busy
     * pool must not look like an outage), so that readiness and GETs can answer at once from
     * {@link #lastKnownReachable()} instead of waiting out a connection timeout while the database is away.
     */
    public void startProbe() {
        probe.start();
    }

    /** The probe's last answer (true until it has one); a volatile read, never blocks. */
    public boolean lastKnownReachable() {
        return reachable;
    }

    private void probeLoop() {
        while (!Thread.currentThread().isInterrupted()) {
            boolean answered = probeOnce();
            if (answered != reachable) {
                reachable = answered;
                log.info("database {}", answered ? "reachable again" : "unreachable");
            }
            try {
                Thread.sleep(PROBE_INTERVAL_MS);
            } catch (InterruptedException e) {
                break;
            }
        }
        closeProbeConnection();
    }

    private boolean probeOnce() {
        try {
            if (probeConnection == null) {
                probeConnection = DriverManager.getConnection(jdbcUrl, probeProperties);
            }
            if (probeConnection.isValid(PROBE_TIMEOUT_SECONDS)) {
                return true;
            }
        } catch (SQLException e) {
            // unreachable, or the server refused us: either way not ready
        }
        closeProbeConnection();
        return false;
    }

    private void closeProbeConnection() {
        if (probeConnection != null) {
            try {
                probeConnection.close();
            } catch (SQLException ignored) {
                // already broken
            }
            probeConnection = null;
        }
    }

    /**
     * Runs pending migrations and answers the engine in use, with the reason it was chosen. The engine of a fresh
     * schema is chosen before anything is migrated, so insisting on one that cannot be had stops with nothing begun.
     */
    public StorageEngine.Choice migrate(EnginePreference preference) throws SQLException {
        AtomicReference<StorageEngine.Choice> fresh = new AtomicReference<>();
        Flyway flyway = Flyway.configure()
                .dataSource(pool)
                .locations("classpath:db/migration")
                .javaMigrations(new V2__Hypertables(fresh::get), new V3__EventIds())
                .load();
        boolean engineUndecided = Arrays.stream(flyway.info().pending())
                .anyMatch(migration -> V2__Hypertables.VERSION.equals(migration.getVersion().getVersion()));
        if (engineUndecided) {
            fresh.set(StorageEngine.choose(this::openUnpooled, preference));
        }
        flyway.migrate();
        if (fresh.get() != null) {
            return fresh.get();
        }
        try (Connection connection = pool.getConnection()) {
            return new StorageEngine.Choice(StorageEngine.inUse(connection), "chosen when the schema was created");
        }
    }

    /**
     * True when a connection answers a trivial query. Tries twice: after an outage the pool may still hold a connection
     * that died with it, and the failed attempt evicts it.
     */
    public boolean reachable() {
        for (int attempt = 0; attempt < 2; attempt++) {
            try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement()) {
                statement.execute("SELECT 1");
                return true;
            } catch (SQLException e) {
                // try once more with another connection
            }
        }
        return false;
    }

    public DataSource dataSource() {
        return pool;
    }

    @Override
    public void close() {
        probe.interrupt();
        pool.close();
    }
}
