package io.tracerboy.storage.migration;

import io.tracerboy.storage.StorageEngine;
import io.tracerboy.storage.TimePartitions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Time partitions on every engine, and event ids kept in {@code events} itself. {@code events} gains
 * {@code event_key} (see {@code EventKeys}) with a unique index on (ts, event_key) for keyed rows. Plain PostgreSQL
 * and Citus: {@code events} and {@code hourly_users} become range-partitioned by day; TimescaleDB: they are
 * hypertables already, with one-day chunks. An existing table is kept whole as the partition {@code <table>_legacy}
 * for everything before the next UTC midnight (its rows stay where they are; rows dated later move to day partitions),
 * so an upgrade copies nothing and loses nothing; retention drops it whole once it is old enough. {@code event_ids}
 * (ids by hour, the earlier store) is kept read-only as {@code legacy_event_ids} while it holds anything, so ids
 * counted before the upgrade are still counted once. {@code request_keys} holds the {@code Idempotency-Key}s.
 */
public final class V4__TimePartitions extends BaseJavaMigration {
    private static final String CUTOVER = "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
            + " + interval '1 day'";

    @Override
    public void migrate(Context context) throws SQLException {
        Connection connection = context.getConnection();
        StorageEngine engine = StorageEngine.inUse(connection);
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET LOCAL TIME ZONE 'UTC'");
            statement.execute("DROP FUNCTION IF EXISTS prune_event_ids(interval)");
            if (engine == StorageEngine.TIMESCALEDB) {
                statement.execute("ALTER TABLE events ADD COLUMN event_key bigint");
                statement.execute("CREATE UNIQUE INDEX events_event_key ON events (ts, event_key)"
                        + " WHERE event_key IS NOT NULL");
            } else {
                partitionByDay(statement, engine, "events", "ts",
                        "ts timestamptz NOT NULL, user_id text"
                                + (engine == StorageEngine.CITUS ? " COLLATE \"C\"" : "") + " NOT NULL,"
                                + " kind smallint NOT NULL CONSTRAINT events_kind_check CHECK (kind IN (0, 1)),"
                                + " event_key bigint",
                        new String[] {"CREATE INDEX events_ts_brin ON events USING brin (ts)",
                            "CREATE UNIQUE INDEX events_event_key ON events (ts, event_key"
                                    + (engine == StorageEngine.CITUS ? ", user_id" : "") + ")"
                                    + " WHERE event_key IS NOT NULL"},
                        "ALTER TABLE events_legacy ADD COLUMN event_key bigint");
                partitionByDay(statement, engine, "hourly_users", "hour",
                        "hour timestamptz NOT NULL, user_id text COLLATE \"C\" NOT NULL, PRIMARY KEY (hour, user_id)",
                        new String[0], null);
            }
            if (count(statement, "SELECT count(*) FROM (SELECT 1 FROM event_ids LIMIT 1) any_id") == 0) {
                statement.execute("DROP TABLE event_ids");
            } else {
                statement.execute("ALTER TABLE event_ids RENAME TO legacy_event_ids");
            }
            // Local on every engine (one row per request, looked up by key): plain declarative partitions by day.
            statement.execute("CREATE TABLE request_keys (received_at timestamptz NOT NULL, key text NOT NULL,"
                    + " body_sha256 bytea NOT NULL, accepted integer NOT NULL, resent integer NOT NULL)"
                    + " PARTITION BY RANGE (received_at)");
            statement.execute("CREATE INDEX request_keys_key ON request_keys (key)");
        }
        TimePartitions.declarative().createDays(connection, "request_keys", System.currentTimeMillis(), 0, 2);
    }

    /**
     * Makes {@code table} range-partitioned by day on {@code column}: the old table becomes {@code <table>_legacy},
     * the partition for everything before the cutover (the next UTC midnight), once the rows dated at or after it have
     * moved to day partitions; an empty old table is simply dropped. {@code legacyChange} (or null) adapts the old
     * table to the new columns first.
     */
    private static void partitionByDay(Statement statement, StorageEngine engine, String table, String column,
                                       String columns, String[] indexes, String legacyChange) throws SQLException {
        boolean empty = count(statement, "SELECT count(*) FROM (SELECT 1 FROM " + table + " LIMIT 1) any_row") == 0;
        if (empty) {
            statement.execute("DROP TABLE " + table);
        } else {
            statement.execute("ALTER TABLE " + table + " RENAME TO " + table + "_legacy");
            // Its indexes keep their names, which the new table's would take: events_ts_brin -> events_legacy_ts_brin.
            java.util.List<String> indexNames = new java.util.ArrayList<>();
            try (ResultSet rs = statement.executeQuery("SELECT indexname FROM pg_indexes WHERE tablename = '" + table
                    + "_legacy' AND indexname LIKE '" + table + "\\_%'")) {
                while (rs.next()) {
                    indexNames.add(rs.getString(1));
                }
            }
            for (String index : indexNames) {
                statement.execute("ALTER INDEX " + index + " RENAME TO " + table + "_legacy"
                        + index.substring(table.length()));
            }
            if (legacyChange != null) {
                statement.execute(legacyChange);
            }
        }
        statement.execute("CREATE TABLE " + table + " (" + columns + ") PARTITION BY RANGE (" + column + ")");
        if (engine == StorageEngine.CITUS) {
            statement.execute("SELECT create_distributed_table('" + table + "', 'user_id'"
                    + (table.equals("events") ? "" : ", colocate_with => 'events'") + ")");
        }
        for (String index : indexes) {
            statement.execute(index);
        }
        TimePartitions partitions = TimePartitions.forEngine(engine);
        Connection connection = statement.getConnection();
        long nowMs = System.currentTimeMillis();
        if (empty) {
            partitions.createDays(connection, table, nowMs, 0, 2);
            return;
        }
        partitions.createDays(connection, table, nowMs, 1, 2);
        // Rows dated at or after the cutover (future timestamps were accepted before) move to their day's partition.
        try (ResultSet days = statement.executeQuery("SELECT DISTINCT extract(epoch FROM date_trunc('day', " + column
                + "))::bigint * 1000 FROM " + table + "_legacy WHERE " + column + " >= " + CUTOVER)) {
            java.util.List<Long> later = new java.util.ArrayList<>();
            while (days.next()) {
                later.add(days.getLong(1));
            }
            for (long dayMs : later) {
                partitions.createDay(connection, table, dayMs);
            }
        }
        statement.execute("INSERT INTO " + table + " SELECT * FROM " + table + "_legacy WHERE " + column + " >= "
                + CUTOVER);
        statement.execute("DELETE FROM " + table + "_legacy WHERE " + column + " >= " + CUTOVER);
        statement.execute("ALTER TABLE " + table + " ATTACH PARTITION " + table + "_legacy FOR VALUES FROM (MINVALUE)"
                + " TO (" + CUTOVER + ")");
    }

    private static long count(Statement statement, String sql) throws SQLException {
        try (ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
