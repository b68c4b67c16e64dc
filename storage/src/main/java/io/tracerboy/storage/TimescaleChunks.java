package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The one-day chunks of a TimescaleDB hypertable: TimescaleDB creates them as rows arrive; tracerboy drops them
 * itself with {@code drop_chunks}, on its own retention thread, rather than through TimescaleDB's background
 * scheduler (whose retention jobs were seen failing with "cannot drop portal" on PostgreSQL 15.20 with 2.28.3).
 */
final class TimescaleChunks implements TimePartitions {
    @Override
    public void createDay(Connection connection, String table, long dayStartMs) {
        // TimescaleDB creates a chunk with the first row of its range.
    }

    @Override
    public boolean covers(Connection connection, String table, long dayStartMs) {
        return true;
    }

    @Override
    public List<String> dropEndedBy(Connection connection, String table, long beforeMs) throws SQLException {
        List<String> dropped = new ArrayList<>();
        try (PreparedStatement drop = connection.prepareStatement("SELECT drop_chunks(?::regclass, older_than => ?)")) {
            drop.setString(1, table);
            drop.setObject(2, OffsetDateTime.ofInstant(Instant.ofEpochMilli(beforeMs), ZoneOffset.UTC));
            try (ResultSet rs = drop.executeQuery()) {
                while (rs.next()) {
                    dropped.add(rs.getString(1));
                }
            }
        }
        return dropped;
    }

    @Override
    public PartitionStatus status(Connection connection, String table) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT count(*),"
                + " coalesce(extract(epoch FROM min(range_start))::bigint * 1000, " + Long.MAX_VALUE + "),"
                + " hypertable_size(?::regclass) FROM timescaledb_information.chunks WHERE hypertable_name = ?")) {
            query.setString(1, table);
            query.setString(2, table);
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return new PartitionStatus(table, rs.getInt(1), rs.getLong(2), rs.getLong(3));
            }
        }
    }
}
