package io.tracerboy.storage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * The way to the database: the connection pool (HikariCP over pgjdbc), connections outside it for work that may lose
 * its connection, and the {@link DatabaseProbe} that says whether the database answers. The schema is
 * {@link SchemaMigrator}'s. One per process; thread-safe.
 */
public final class Database implements AutoCloseable {
    private static final long CONNECTION_TIMEOUT_MS = 2_000;
    private static final long VALIDATION_TIMEOUT_MS = 1_000;

    private final HikariDataSource pool;
    private final String jdbcUrl;
    private final Properties credentials = new Properties();
    private final DatabaseProbe probe;

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
            credentials.setProperty("user", user);
        }
        if (password != null) {
            config.setPassword(password);
            credentials.setProperty("password", password);
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
        this.probe = new DatabaseProbe(jdbcUrl, credentials);
    }

    /** A connection outside the pool, for work that may lose its connection (the TimescaleDB probe). */
    Connection openUnpooled() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, credentials);
    }

    /** Starts the {@link DatabaseProbe}, so that {@link #lastKnownReachable()} follows the database. */
    public void startProbe() {
        probe.start();
    }

    /** The probe's last answer (true until it has one); a volatile read, never blocks. */
    public boolean lastKnownReachable() {
        return probe.lastKnownReachable();
    }

    public DataSource dataSource() {
        return pool;
    }

    @Override
    public void close() {
        probe.stop();
        pool.close();
    }
}
