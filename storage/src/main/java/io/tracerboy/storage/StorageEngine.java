package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;

/** The engine holding {@code events}: a TimescaleDB hypertable or a plain PostgreSQL table. */
public enum StorageEngine {
    TIMESCALEDB, POSTGRESQL;

    /** Thrown when TimescaleDB is forced but the database cannot provide it. */
    public static final class UnavailableException extends SQLException {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message) {
            super(message);
        }
    }

    /**
     * The engine a fresh schema gets: TimescaleDB when its extension can be created here (available, preloaded, and the
     * user may create it), plain PostgreSQL otherwise; forcing TimescaleDB fails where it cannot be had. Creating the
     * extension is the test because it is what fails when it is not preloaded, and because reading
     * {@code shared_preload_libraries} needs privileges an application user often lacks.
     */
    public static StorageEngine choose(Connection connection, EnginePreference preference) throws SQLException {
        if (preference == EnginePreference.POSTGRESQL) {
            return POSTGRESQL;
        }
        String unavailable = createExtension(connection);
        if (unavailable == null) {
            return TIMESCALEDB;
        }
        if (preference == EnginePreference.TIMESCALEDB) {
            throw new UnavailableException("STORAGE_ENGINE: expected auto or postgresql, found 'timescaledb', but "
                    + unavailable);
        }
        return POSTGRESQL;
    }

    /** Creates the timescaledb extension (in a savepoint); null on success, otherwise why it cannot be had. */
    private static String createExtension(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                     "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")) {
            rs.next();
            if (rs.getLong(1) == 0) {
                return "the database server has no timescaledb extension installed";
            }
        }
        boolean autoCommit = connection.getAutoCommit();
        if (autoCommit) {
            connection.setAutoCommit(false);
        }
        Savepoint savepoint = connection.setSavepoint();
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE EXTENSION IF NOT EXISTS timescaledb");
            connection.releaseSavepoint(savepoint);
            return null;
        } catch (SQLException e) {
            connection.rollback(savepoint);
            return "CREATE EXTENSION timescaledb failed: " + e.getMessage().lines().findFirst().orElse("");
        } finally {
            if (autoCommit) {
                connection.commit();
                connection.setAutoCommit(true);
            }
        }
    }

    /** The engine the migrated schema actually uses. */
    public static StorageEngine inUse(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")) {
            rs.next();
            if (rs.getLong(1) == 0) {
                return POSTGRESQL;
            }
        }
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT count(*) FROM timescaledb_information.hypertables "
                     + "WHERE hypertable_name = 'events'")) {
            rs.next();
            return rs.getLong(1) > 0 ? TIMESCALEDB : POSTGRESQL;
        }
    }
}
