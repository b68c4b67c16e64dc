package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What declarative and Citus partitions share: the partitions of a table read from the catalog with their ranges, so
 * that a day already covered (by its own partition or by the {@code _legacy} one) is never created twice and a drop
 * takes only partitions wholly past retention.
 */
abstract class CatalogPartitions implements TimePartitions {
    /** One partition and its range in epoch ms; {@code fromMs} is {@code Long.MIN_VALUE} for MINVALUE. */
    record Partition(String name, long fromMs, long toMs, boolean detachPending) {
    }

    private static final String LIST_SQL = "SELECT c.relname,"
            + " extract(epoch FROM (regexp_match(b.bound, 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz) * 1000,"
            + " extract(epoch FROM (regexp_match(b.bound, 'TO \\(''([^'']+)''\\)'))[1]::timestamptz) * 1000,"
            + " i.inhdetachpending"
            + " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            + " CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b"
            + " WHERE i.inhparent = ?::regclass ORDER BY 3";
    private static final String KEY_COLUMN_SQL = "SELECT a.attname FROM pg_partitioned_table p"
            + " JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
            + " WHERE p.partrelid = ?::regclass";

    /** {@code table}'s partitions, by the end of their range. */
    static List<Partition> partitions(Connection connection, String table) throws SQLException {
        List<Partition> partitions = new ArrayList<>();
        try (PreparedStatement list = connection.prepareStatement(LIST_SQL)) {
            list.setString(1, table);
            try (ResultSet rs = list.executeQuery()) {
                while (rs.next()) {
                    long from = rs.getLong(2);
                    partitions.add(new Partition(rs.getString(1), rs.wasNull() ? Long.MIN_VALUE : from, rs.getLong(3),
                            rs.getBoolean(4)));
                }
            }
        }
        return partitions;
    }

    /** Whether a partition of {@code table} already holds any of [dayStartMs, next day). */
    static boolean covered(Connection connection, String table, long dayStartMs) throws SQLException {
        for (Partition partition : partitions(connection, table)) {
            if (partition.fromMs() < dayStartMs + DAY_MS && partition.toMs() > dayStartMs) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean covers(Connection connection, String table, long dayStartMs) throws SQLException {
        return covered(connection, table, dayStartMs);
    }

    /** Serialises partition changes of one table across every writer, for the rest of the transaction. */
    static void lock(Connection connection, String table) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement(
                "SELECT pg_advisory_xact_lock(hashtext('tracerboy partitions of ' || ?))")) {
            lock.setString(1, table);
            lock.execute();
        }
    }

    static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    /** The size of the partitions, in bytes, indexes included. */
    abstract long bytes(Connection connection, String table) throws SQLException;

    @Override
    public PartitionStatus status(Connection connection, String table) throws SQLException {
        List<Partition> partitions = partitions(connection, table);
        long oldestMs = Long.MAX_VALUE;
        for (Partition partition : partitions) {
            long fromMs = partition.fromMs();
            if (fromMs == Long.MIN_VALUE) {
                fromMs = oldestRowMs(connection, partition.name(), keyColumn(connection, table));
            }
            oldestMs = Math.min(oldestMs, fromMs);
        }
        return new PartitionStatus(table, partitions.size(), oldestMs, bytes(connection, table));
    }

    private static String keyColumn(Connection connection, String table) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(KEY_COLUMN_SQL)) {
            query.setString(1, table);
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** The oldest row of a partition with no lower bound (an upgraded table kept whole): its start of hour. */
    private static long oldestRowMs(Connection connection, String partition, String column) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT extract(epoch FROM date_trunc('hour', min(" + column
                     + ")))::bigint * 1000 FROM " + partition)) {
            rs.next();
            long oldest = rs.getLong(1);
            return rs.wasNull() ? Long.MAX_VALUE : oldest;
        }
    }
}
