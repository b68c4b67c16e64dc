package io.tracerboy.storage.migration;

import io.tracerboy.storage.StorageEngine;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * {@code hourly_sketches}: one HyperLogLog sketch of an hour's users per writer (a random id per process incarnation),
 * so that unique users over a range can be estimated by a union where {@code hourly_users} is gone or too large to
 * count. One row per (hour, writer): a writer only ever replaces its own row, so replicas never contend on a hot row
 * nor read-modify-write each other's. Kept for ever, as {@code hourly_stats}. On Citus distributed by {@code hour},
 * co-located with {@code hourly_stats}; a plain table on TimescaleDB and PostgreSQL.
 */
public final class V5__HourlySketches extends BaseJavaMigration {
    @Override
    public void migrate(Context context) throws SQLException {
        StorageEngine engine = StorageEngine.inUse(context.getConnection());
        try (Statement statement = context.getConnection().createStatement()) {
            statement.execute("CREATE TABLE hourly_sketches (hour timestamptz NOT NULL, writer uuid NOT NULL,"
                    + " sketch bytea NOT NULL, PRIMARY KEY (hour, writer))");
            if (engine == StorageEngine.CITUS) {
                statement.execute("SELECT create_distributed_table('hourly_sketches', 'hour',"
                        + " colocate_with => 'hourly_stats')");
            }
        }
    }
}
