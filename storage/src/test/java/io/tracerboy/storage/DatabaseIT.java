package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class DatabaseIT {
    @Test
    void migratesAPlainPostgresqlAndSaysSo() throws Exception {
        try (TestDatabase test = TestDatabase.create();
             Database database = new Database(test.url(), null, null, 2)) {
            assertThat(SchemaMigrator.migrate(database, EnginePreference.AUTO).engine())
                    .isEqualTo(StorageEngine.POSTGRESQL);
            assertThat(SchemaMigrator.migrate(database, EnginePreference.AUTO).engine())
                    .isEqualTo(StorageEngine.POSTGRESQL);
            assertThat(test.queryLong("SELECT count(*) FROM flyway_schema_history WHERE success")).isEqualTo(5);
            assertThat(Pools.answer(database)).isTrue();
        }
    }

    @Test
    void forcingTimescaledbWhereItIsMissingFailsWithAClearMessage() throws Exception {
        try (TestDatabase test = TestDatabase.create();
             Database database = new Database(test.url(), null, null, 2)) {
            // The test server may have the extension installed but not preloaded (a machine where a TimescaleDB was
            // built for TimescaleIT): each case has its own exact message.
            boolean installed = test.queryLong("SELECT count(*) FROM pg_available_extensions"
                    + " WHERE name = 'timescaledb'") > 0;
            assertThatThrownBy(() -> SchemaMigrator.migrate(database, EnginePreference.TIMESCALEDB))
                    .isInstanceOf(StorageEngine.UnavailableException.class)
                    .hasMessage(installed
                            ? "timescaledb is installed but not preloaded (it is not in shared_preload_libraries)"
                            : "the database server has no timescaledb extension installed");
        }
    }

    @Test
    void theEmbeddedDatabaseIsDurableAndKeepsItsDataAcrossRestarts() throws Exception {
        Path dir = Files.createTempDirectory("tracerboy-embedded");
        try (EmbeddedDatabase first = EmbeddedDatabase.start(dir)) {
            try (Connection connection = DriverManager.getConnection(first.jdbcUrl());
                 Statement statement = connection.createStatement()) {
                assertThat(setting(statement, "fsync")).isEqualTo("on");
                assertThat(setting(statement, "synchronous_commit")).isEqualTo("on");
                statement.execute("CREATE TABLE kept (v int)");
                statement.execute("INSERT INTO kept VALUES (42)");
            }
        }
        try (EmbeddedDatabase second = EmbeddedDatabase.start(dir);
             Connection connection = DriverManager.getConnection(second.jdbcUrl());
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT v FROM kept")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
        }
    }

    private static String setting(Statement statement, String name) throws Exception {
        try (ResultSet rs = statement.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * Found by the storm: a replica whose first pooled connection died while HikariCP asked it for the default
     * isolation level kept a pool that set isolation level -1 on every later connection ("Transaction isolation level
     * -1 not supported", HikariCP #887), which stopped startup as a fatal error. The isolation level is now configured,
     * so nothing is read from a connection that may be dying.
     */
    @Test
    void aConnectionLostWhileThePoolReadsItsDefaultsDoesNotPoisonThePool() throws Exception {
        try (TestDatabase test = TestDatabase.create(); TcpProxy proxy = new TcpProxy(test.url())) {
            proxy.loseReplyTo("SHOW TRANSACTION ISOLATION LEVEL");
            try (Database database = new Database(proxy.proxiedUrl(test.url()), null, null, 2)) {
                try (Connection first = database.dataSource().getConnection()) {
                    first.createStatement().execute("SELECT 1");
                } catch (SQLException expected) {
                    // the connection whose defaults were being read when it was cut
                }
                assertThat(proxy.awaitReplyLost(10_000)).isTrue();
                proxy.restore();
                assertThat(SchemaMigrator.migrate(database, EnginePreference.AUTO).engine())
                        .isEqualTo(StorageEngine.POSTGRESQL);
                try (Connection connection = database.dataSource().getConnection()) {
                    assertThat(connection.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_READ_COMMITTED);
                }
            }
        }
    }
}
