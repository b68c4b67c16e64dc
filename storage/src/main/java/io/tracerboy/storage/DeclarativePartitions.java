package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Day partitions of plain PostgreSQL. A day is created as a table of its own, then attached: {@code ATTACH PARTITION}
 * takes only a SHARE UPDATE EXCLUSIVE lock on the parent, which writers do not wait for, where {@code CREATE TABLE …
 * PARTITION OF} takes an ACCESS EXCLUSIVE one. A day is dropped by {@code DETACH PARTITION … CONCURRENTLY} (finished on
 * the next run if it was interrupted), then {@code DROP TABLE}: writers never wait for retention either.
 */
final class DeclarativePartitions extends CatalogPartitions {
    @Override
    public void createDay(Connection connection, String table, long dayStartMs) throws SQLException {
        lock(connection, table);
        if (covered(connection, table, dayStartMs)) {
            return;
        }
        String name = TimePartitions.partitionName(table, dayStartMs);
        execute(connection, "CREATE TABLE " + name + " (LIKE " + table + " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
        execute(connection, "ALTER TABLE " + table + " ATTACH PARTITION " + name + " FOR VALUES FROM ('"
                + Instant.ofEpochMilli(dayStartMs) + "') TO ('" + Instant.ofEpochMilli(dayStartMs + DAY_MS) + "')");
    }

    @Override
    public List<String> dropEndedBy(Connection connection, String table, long beforeMs) throws SQLException {
        List<String> dropped = new ArrayList<>();
        for (Partition partition : partitions(connection, table)) {
            if (partition.toMs() > beforeMs) {
                continue;
            }
            execute(connection, "ALTER TABLE " + table + " DETACH PARTITION " + partition.name()
                    + (partition.detachPending() ? " FINALIZE" : " CONCURRENTLY"));
            execute(connection, "DROP TABLE " + partition.name());
            dropped.add(partition.name());
        }
        return dropped;
    }

    @Override
    long bytes(Connection connection, String table) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT coalesce(sum(pg_total_relation_size("
                + "relid)), 0) FROM pg_partition_tree(?::regclass)")) {
            query.setString(1, table);
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
