package io.tracerboy.storage;

import io.tracerboy.ingest.Hours;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The day partitions of a time-partitioned table, as each engine keeps them: declarative range partitions on plain
 * PostgreSQL, chunks on TimescaleDB, Citus's time partitions on Citus. Creates the days events arrive in (ahead of
 * time, or when a batch needs one), drops days past retention whole, and tells what is kept. Days are UTC days; a
 * partition's range is [day, next day), but for a table's {@code _legacy} partition, which holds everything before
 * the day its table was partitioned. Stateless; called on the writer and retention threads with their connections.
 */
public interface TimePartitions {
    /** One UTC day in milliseconds. */
    long DAY_MS = 24 * Hours.HOUR_MS;

    /** How {@code engine} partitions {@code events} and {@code hourly_users}. */
    static TimePartitions forEngine(StorageEngine engine) {
        return switch (engine) {
            case TIMESCALEDB -> new TimescaleChunks();
            case CITUS -> new CitusTimePartitions();
            case POSTGRESQL -> new DeclarativePartitions();
        };
    }

    /** Plain declarative partitions, on any engine (for tables local to one server, such as request_keys). */
    static TimePartitions declarative() {
        return new DeclarativePartitions();
    }

    /** The start of the UTC day holding {@code instantMs}. */
    static long dayStartMs(long instantMs) {
        return Math.floorDiv(instantMs, DAY_MS) * DAY_MS;
    }

    /** The name of {@code table}'s partition for the day starting at {@code dayStartMs}: {@code events_p2026_12_02}. */
    static String partitionName(String table, long dayStartMs) {
        return table + "_p" + DateTimeFormatter.ofPattern("yyyy_MM_dd").withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(dayStartMs));
    }

    /**
     * Creates {@code table}'s partition for the day starting at {@code dayStartMs} unless it exists, in the caller's
     * transaction (several writers may try at once: the first wins, the others find it).
     */
    void createDay(Connection connection, String table, long dayStartMs) throws SQLException;

    /** Whether rows of the day starting at {@code dayStartMs} have a partition of {@code table} to go to (a read). */
    boolean covers(Connection connection, String table, long dayStartMs) throws SQLException;

    /** Creates the partitions of the days {@code fromDays} to {@code toDays} (inclusive) from the day of now. */
    default void createDays(Connection connection, String table, long nowMs, int fromDays, int toDays)
            throws SQLException {
        for (int day = fromDays; day <= toDays; day++) {
            createDay(connection, table, dayStartMs(nowMs) + day * DAY_MS);
        }
    }

    /**
     * Drops, whole, {@code table}'s partitions whose range ends at or before {@code beforeMs}; answers their names.
     * Runs outside any transaction (a partition may be detached concurrently, which cannot run in one).
     */
    List<String> dropEndedBy(Connection connection, String table, long beforeMs) throws SQLException;

    /** How many partitions {@code table} has, since when it keeps rows, and its size. */
    PartitionStatus status(Connection connection, String table) throws SQLException;
}
