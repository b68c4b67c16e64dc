package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The engine holding {@code events}: a TimescaleDB hypertable or a plain PostgreSQL table. */
public enum StorageEngine {
    TIMESCALEDB, POSTGRESQL;

    /** Thrown when TimescaleDB is insisted on but the database cannot provide it; the message says why. */
    public static final class UnavailableException extends SQLException {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message) {
            super(message);
        }
    }

    /** Opens a connection of its own, outside any pool, which the probe may lose to a FATAL. */
    @FunctionalInterface
    public interface ConnectionOpener {
        Connection open() throws SQLException;
    }

    /** The engine a fresh schema gets, and why (for the startup log). */
    public record Choice(StorageEngine engine, String reason) {
    }

    /**
     * The engine a fresh schema gets: TimescaleDB when its extension is installed, preloaded and creatable by this
     * user; plain PostgreSQL otherwise; forcing TimescaleDB fails where it cannot be had. Probes on a connection of
     * its own from {@code probeConnection}: without the library in {@code shared_preload_libraries},
     * {@code CREATE EXTENSION timescaledb} raises a FATAL that closes the connection, which must not be one the
     * migration needs (nor one a pool would hand out again).
     */
    public static Choice choose(ConnectionOpener probeConnection, EnginePreference preference) throws SQLException {
        if (preference == EnginePreference.POSTGRESQL) {
            return new Choice(POSTGRESQL, "STORAGE_ENGINE=postgresql");
        }
        String unavailable;
        try (Connection connection = probeConnection.open()) {
            unavailable = whyUnavailable(connection);
        }
        if (unavailable == null) {
            return new Choice(TIMESCALEDB, "the timescaledb extension is installed and preloaded");
        }
        if (preference == EnginePreference.TIMESCALEDB) {
            throw new UnavailableException(unavailable);
        }
        return new Choice(POSTGRESQL, unavailable);
    }

    /** Creates the timescaledb extension if it can be had; null on success, otherwise why not. */
    private static String whyUnavailable(Connection connection) throws SQLException {
        if (queryLong(connection, "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'") == 0) {
            return "the database server has no timescaledb extension installed";
        }
        // A preloaded TimescaleDB registers timescaledb.* settings, which pg_settings shows to any user (unlike
        // shared_preload_libraries itself, hidden from non-superusers); placeholders of unloaded libraries are not
        //shown.
        if (queryLong(connection, "SELECT count(*) FROM pg_settings WHERE name LIKE 'timescaledb.%'") == 0) {
            return "timescaledb is installed but not preloaded (it is not in shared_preload_libraries)";
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE EXTENSION IF NOT EXISTS timescaledb");
            return null;
        } catch (SQLException e) {
            return "CREATE EXTENSION timescaledb failed: " + firstLine(e.getMessage());
        }
    }

    /** The engine the migrated schema actually uses. */
    public static StorageEngine inUse(Connection connection) throws SQLException {
        if (queryLong(connection, "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'") == 0) {
            return POSTGRESQL;
        }
        return queryLong(connection, "SELECT count(*) FROM timescaledb_information.hypertables "
                + "WHERE hypertable_name = 'events'") > 0 ? TIMESCALEDB : POSTGRESQL;
    }

    private static long queryLong(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
