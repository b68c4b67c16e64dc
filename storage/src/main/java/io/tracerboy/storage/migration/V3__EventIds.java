package io.tracerboy.storage.migration;

import io.tracerboy.storage.StorageEngine;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The event ids already counted, per UTC hour of the event: the unique key decides, across every writer, whether an
 * event is new or a resend. A TimescaleDB hypertable with one-hour chunks where {@code events} is one, so that
 * forgetting old ids drops whole chunks; a plain table otherwise. {@code prune_event_ids(retention)} forgets the hours
 * older than the retention either way.
 */
public final class V3__EventIds extends BaseJavaMigration {
    @Override
    public void migrate(Context context) throws SQLException {
        try (Statement statement = context.getConnection().createStatement()) {
            // COLLATE "C": ids are compared as bytes, as the writers sort them before inserting (lock order).
            statement.execute("CREATE TABLE event_ids ("
                    + " hour timestamptz NOT NULL,"
                    + " event_id text COLLATE \"C\" NOT NULL,"
                    + " PRIMARY KEY (hour, event_id))");
            StorageEngine engine = StorageEngine.inUse(context.getConnection());
            boolean hypertables = engine == StorageEngine.TIMESCALEDB;
            if (hypertables) {
                statement.execute("SELECT create_hypertable(relation => 'event_ids', "
                        + "dimension => by_range('hour', INTERVAL '1 hour'))");
            }
            statement.execute("CREATE FUNCTION prune_event_ids(retention interval) RETURNS void LANGUAGE plpgsql AS $$"
                    + " BEGIN"
                    + (hypertables
                    ? " PERFORM drop_chunks('event_ids', older_than => now() - retention);"
                    : " DELETE FROM event_ids WHERE hour < now() - retention;")
                    + " END $$");
            if (engine == StorageEngine.CITUS) {
                // Citus: by the id, so the unique key (hour, id) is checked within one shard. Last: Citus refuses
                // to propagate the function once the transaction has run a parallel (multi-shard) command.
                statement.execute("SELECT create_distributed_table('event_ids', 'event_id')");
            }
        }
    }
}
