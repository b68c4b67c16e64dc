package io.tracerboy.bench;

import io.tracerboy.storage.Database;
import io.tracerboy.storage.EnginePreference;
import io.tracerboy.storage.SchemaMigrator;
import io.tracerboy.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A migrated database for the storage benchmarks: a fresh database from {@link TestDatabase}, on the server named by
 * {@code DATABASE_URL} or on an embedded PostgreSQL (fsync on, as tracerboy runs it) when unset.
 */
final class BenchDatabase implements AutoCloseable {
    private final TestDatabase test;
    final Database database;

    BenchDatabase(int poolSize) throws SQLException {
        test = TestDatabase.create();
        database = new Database(test.url(), null, null, poolSize);
        SchemaMigrator.migrate(database, EnginePreference.AUTO);
    }

    void execute(String sql) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    @Override
    public void close() throws SQLException {
        database.close();
        test.close();
    }
}
