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
 * TimescaleDB, distributes the tables when it is Citus, and leaves them plain otherwise. Runs right after V1, while
 * both tables are still empty, since {@code create_hypertable} refuses non-empty tables unless told to migrate data.
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
        if (choice.get() != null && choice.get().engine() == StorageEngine.CITUS) {
            distribute(context);
            return;
        }
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

    /**
     * On Citus: {@code events} and {@code hourly_users} distributed by {@code user_id} and co-located (both columns
     * {@code COLLATE "C"}, which co-location requires), so every user's rows, and the unique key that decides whether a
     * user is new in an hour, live in one shard: per-shard counts of new users add up exactly. {@code written_batches}
     * by {@code batch_id} (as a reference table every claim would wait for the previous one: Citus locks replicated
     * tables for {@code ON CONFLICT} writes). {@code hourly_stats} by {@code hour}: a GET is a router query to one
     * shard, and writers of the same hour meet on its row lock, as on one server. {@code dead_letters} and Flyway's
     * history stay local to the coordinator. The shard count is the database's {@code citus.shard_count}.
     */
    private static void distribute(Context context) throws SQLException {
        try (Statement statement = context.getConnection().createStatement()) {
            statement.execute("ALTER TABLE events ALTER COLUMN user_id TYPE text COLLATE \"C\"");
            statement.execute("SELECT create_distributed_table('events', 'user_id')");
            statement.execute("SELECT create_distributed_table('hourly_users', 'user_id', colocate_with => 'events')");
            statement.execute("SELECT create_distributed_table('written_batches', 'batch_id')");
            statement.execute("SELECT create_distributed_table('hourly_stats', 'hour')");
        }
    }
}
