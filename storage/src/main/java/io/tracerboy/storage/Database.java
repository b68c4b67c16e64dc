package io.tracerboy.storage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tracerboy.storage.migration.V2__Hypertables;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The connection pool (HikariCP over pgjdbc) and the schema (Flyway). One per process; thread-safe.
 */
public final class Database implements AutoCloseable {
    private final HikariDataSource pool;

    /** Opens a pool of {@code poolSize} connections to {@code jdbcUrl}; connects lazily, so a database still down is fine. */
    public Database(String jdbcUrl, String user, String password, int poolSize) {
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
        config.setConnectionTimeout(2_000);
        config.setValidationTimeout(1_000);
        config.setInitializationFailTimeout(-1);
        config.addDataSourceProperty("tcpKeepAlive", "true");
        config.addDataSourceProperty("ApplicationName", "tracerboy");
        this.pool = new HikariDataSource(config);
    }

    /** Runs pending migrations and answers the engine in use. */
    public StorageEngine migrate(EnginePreference preference) throws SQLException {
        Flyway.configure()
                .dataSource(pool)
                .locations("classpath:db/migration")
                .javaMigrations(new V2__Hypertables(preference))
                .load()
                .migrate();
        try (Connection connection = pool.getConnection()) {
            return StorageEngine.inUse(connection);
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

    /** True when {@code failure} (or a cause) is a database error worth retrying: unreachable, restarting, deadlock. */
    public static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && SqlStates.isTransient(sql)) {
                return true;
            }
        }
        return false;
    }

    public DataSource dataSource() {
        return pool;
    }

    @Override
    public void close() {
        pool.close();
    }
}
