package io.tracerboy.storage.migration;

import io.tracerboy.storage.EnginePreference;
import io.tracerboy.storage.StorageEngine;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Turns {@code events} and {@code hourly_users} into TimescaleDB hypertables with one-day chunks when the extension is
 * installed, preloaded and creatable by this user (or when forced), and leaves them plain otherwise. Runs right after
 * V1, while both tables are still empty, since {@code create_hypertable} refuses non-empty tables unless told to
 * migrate
 * data. The extension is probed on a connection of its own ({@link StorageEngine#choose}), never the migration's.
 */
public final class V2__Hypertables extends BaseJavaMigration {
    private final EnginePreference preference;
    private final StorageEngine.ConnectionOpener probeConnection;
    private volatile StorageEngine.Choice choice;

    public V2__Hypertables(EnginePreference preference, StorageEngine.ConnectionOpener probeConnection) {
        this.preference = preference;
        this.probeConnection = probeConnection;
    }

    @Override
    public void migrate(Context context) throws SQLException {
        choice = StorageEngine.choose(probeConnection, preference);
        if (choice.engine() != StorageEngine.TIMESCALEDB) {
            return;
        }
        try (Statement statement = context.getConnection().createStatement()) {
            // No default btree on ts: the BRIN from V1 is cheaper to maintain under COPY, and chunk exclusion does the
            //rest.
            statement.execute("SELECT create_hypertable(relation => 'events', "
                    + "dimension => by_range('ts', INTERVAL '1 day'), create_default_indexes => false)");
            statement.execute("SELECT create_hypertable(relation => 'hourly_users', "
                    + "dimension => by_range('hour', INTERVAL '1 day'), create_default_indexes => false)");
        }
    }

    /** The choice made when this migration ran in this process, or null when it ran earlier. */
    public StorageEngine.Choice choice() {
        return choice;
    }
}
