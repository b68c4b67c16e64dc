package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
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
     * The engine a fresh schema gets: TimescaleDB when the extension is available and preloaded (or forced, failing
     * when it is not), plain PostgreSQL otherwise.
     */
    public static StorageEngine choose(Connection connection, EnginePreference preference) throws SQLException {
        if (preference == EnginePreference.POSTGRESQL) {
            return POSTGRESQL;
        }
        boolean available = timescaleAvailable(connection);
        if (preference == EnginePreference.TIMESCALEDB && !available) {
            throw new UnavailableException("STORAGE_ENGINE: expected auto or postgresql, found 'timescaledb', but the "
                    + "database has no timescaledb extension in shared_preload_libraries");
        }
        return available ? TIMESCALEDB : POSTGRESQL;
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

    private static boolean timescaleAvailable(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_available_extensions "
                     + "WHERE name = 'timescaledb'), current_setting('shared_preload_libraries')")) {
            rs.next();
            return rs.getBoolean(1) && rs.getString(2).contains("timescaledb");
        }
    }
}
