package io.tracerboy.storage.migration;

import io.tracerboy.storage.StorageEngine;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.Supplier;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Turns {@code events} and {@code hourly_users} into TimescaleDB hypertables with one-day chunks when the engine chosen
 * for the fresh schema ({@link StorageEngine#choose}, probed on a connection of its own before migrating) is
 * TimescaleDB, and leaves them plain otherwise. Runs right after V1, while both tables are still empty, since
 * {@code create_hypertable} refuses non-empty tables unless told to migrate data.
 */
public final class V2__Hypertables extends BaseJavaMigration {
    /** This migration's version, as Flyway reads it from the class name. */
    public static final String VERSION = "2";

    private final Supplier<StorageEngine.Choice> choice;

    public V2__Hypertables(Supplier<StorageEngine.Choice> choice) {
        this.choice = choice;
    }

    @Override
    public void migrate(Context context) throws SQLException {
        if (choice.get() == null || choice.get().engine() != StorageEngine.TIMESCALEDB) {
            return;
        }
        try (Statement statement = context.getConnection().createStatement()) {
            // No default btree on ts: the BRIN from V1 is cheaper to maintain under COPY, and chunk exclusion does the
            // rest.
            statement.execute("SELECT create_hypertable(relation => 'events', "
                    + "dimension => by_range('ts', INTERVAL '1 day'), create_default_indexes => false)");
            statement.execute("SELECT create_hypertable(relation => 'hourly_users', "
                    + "dimension => by_range('hour', INTERVAL '1 day'), create_default_indexes => false)");
        }
    }
}
