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
 * Day partitions of a Citus distributed table, made with Citus's own {@code create_time_partitions} (each partition is
 * distributed and co-located with its parent) and dropped with {@code DROP TABLE}, which Citus propagates to the
 * workers ({@code DETACH … CONCURRENTLY} is not propagated).
 */
final class CitusTimePartitions extends CatalogPartitions {
    @Override
    public void createDay(Connection connection, String table, long dayStartMs) throws SQLException {
        lock(connection, table);
        if (covered(connection, table, dayStartMs)) {
            return;
        }
        try (PreparedStatement create = connection.prepareStatement("SELECT create_time_partitions(table_name => "
                + "?::regclass, partition_interval => interval '1 day', end_at => ?, start_from => ?)")) {
            create.setString(1, table);
            create.setObject(2, OffsetDateTime.ofInstant(Instant.ofEpochMilli(dayStartMs + DAY_MS), ZoneOffset.UTC));
            create.setObject(3, OffsetDateTime.ofInstant(Instant.ofEpochMilli(dayStartMs), ZoneOffset.UTC));
            create.execute();
        }
    }

    @Override
    public List<String> dropEndedBy(Connection connection, String table, long beforeMs) throws SQLException {
        List<String> dropped = new ArrayList<>();
        for (Partition partition : partitions(connection, table)) {
            if (partition.toMs() <= beforeMs) {
                execute(connection, "DROP TABLE " + partition.name());
                dropped.add(partition.name());
            }
        }
        return dropped;
    }

    @Override
    long bytes(Connection connection, String table) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT coalesce(sum(citus_total_relation_size("
                + "relid)), 0) FROM pg_partition_tree(?::regclass) WHERE isleaf")) {
            query.setString(1, table);
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
