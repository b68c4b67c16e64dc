package io.tracerboy.storage;

import io.tracerboy.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A database of its own for a test class, migrated once and emptied before each test (every table tracerboy writes),
 * on a real PostgreSQL: {@code @RegisterExtension static final MigratedDatabase DB = new MigratedDatabase(4);}.
 */
final class MigratedDatabase implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {
    private final int poolSize;
    private TestDatabase testDatabase;
    private Database database;

    MigratedDatabase(int poolSize) {
        this.poolSize = poolSize;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        testDatabase = TestDatabase.create();
        database = new Database(testDatabase.url(), null, null, poolSize);
        SchemaMigrator.migrate(database, EnginePreference.AUTO);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        database.close();
        testDatabase.close();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        try (Connection connection = dataSource().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("TRUNCATE events, hourly_users, hourly_stats, hourly_sketches, written_batches,"
                    + " dead_letters, request_keys");
        }
    }

    DataSource dataSource() {
        return database.dataSource();
    }

    long queryLong(String sql) throws SQLException {
        return testDatabase.queryLong(sql);
    }
}
