package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The engine holding the tables: TimescaleDB hypertables, Citus distributed tables, or plain PostgreSQL tables.
 */
public enum StorageEngine {
    TIMESCALEDB, POSTGRESQL, CITUS;

    /** What the startup log says of the layout. */
    public String describe() {
        return switch (this) {
            case TIMESCALEDB -> "TimescaleDB: events and hourly_users are hypertables with one-day chunks";
            case CITUS -> "Citus: events and hourly_users distributed by user_id (co-located) and partitioned by day, "
                    + "written_batches by batch_id, hourly_stats by hour";
            case POSTGRESQL -> "PostgreSQL: events and hourly_users partitioned by day";
        };
    }

    /** Thrown when TimescaleDB is insisted on but the database cannot provide it; the message says why. */
    public static final class UnavailableException extends SQLException {
        private static final long serialVersionUID = 1L;

        private final EnginePreference insisted;

        UnavailableException(EnginePreference insisted, String message) {
            super(message);
            this.insisted = insisted;
        }

        /** The value of {@code STORAGE_ENGINE} that could not be had. */
        public EnginePreference insisted() {
            return insisted;
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
     * its own from {@code probeConnection}: without the library in {@code shared_preload_libraries}, {@code CREATE
     * EXTENSION timescaledb} raises a FATAL that closes the connection, which must not be one the migration needs (nor
     * one a pool would hand out again).
     */
    public static Choice choose(ConnectionOpener probeConnection, EnginePreference preference) throws SQLException {
        if (preference == EnginePreference.POSTGRESQL) {
            return new Choice(POSTGRESQL, "STORAGE_ENGINE=postgresql");
        }
        String unavailable;
        boolean citus;
        try (Connection connection = probeConnection.open()) {
            citus = queryLong(connection, "SELECT count(*) FROM pg_extension WHERE extname = 'citus'") > 0;
            unavailable = citus || preference == EnginePreference.CITUS ? null : whyUnavailable(connection);
        }
        if (preference == EnginePreference.CITUS || citus) {
            if (citus && preference != EnginePreference.TIMESCALEDB) {
                return new Choice(CITUS, "the citus extension is created in this database");
            }
            throw new UnavailableException(preference, citus
                    ? "this database runs Citus, which TimescaleDB does not run with"
                    : "the citus extension is not created in this database (CREATE EXTENSION citus on the "
                            + "coordinator)");
        }
        if (unavailable == null) {
            return new Choice(TIMESCALEDB, "the timescaledb extension is installed and preloaded");
        }
        if (preference == EnginePreference.TIMESCALEDB) {
            throw new UnavailableException(preference, unavailable);
        }
        return new Choice(POSTGRESQL, unavailable);
    }

    /** Creates the timescaledb extension if it can be had; null on success, otherwise why not. */
    private static String whyUnavailable(Connection connection) throws SQLException {
        if (queryLong(connection, "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'") == 0) {
            return "the database server has no timescaledb extension installed";
        }
        // A preloaded TimescaleDB registers timescaledb.* settings, which pg_settings shows to any user (unlike
        // shared_preload_libraries itself, hidden from non-superusers); placeholders of unloaded libraries are
        // not shown.
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
        if (isDistributed(connection, "events")) {
            return CITUS;
        }
        if (queryLong(connection, "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'") == 0) {
            return POSTGRESQL;
        }
        return queryLong(connection, "SELECT count(*) FROM timescaledb_information.hypertables "
                + "WHERE hypertable_name = 'events'") > 0 ? TIMESCALEDB : POSTGRESQL;
    }

    /** Whether {@code table} is a Citus distributed table (false where Citus is not created). */
    private static boolean isDistributed(Connection connection, String table) throws SQLException {
        return queryLong(connection, "SELECT count(*) FROM pg_extension WHERE extname = 'citus'") > 0
                && queryLong(connection, "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = '" + table
                        + "'::regclass") > 0;
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
