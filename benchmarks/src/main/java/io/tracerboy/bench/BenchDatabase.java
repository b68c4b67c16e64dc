package io.tracerboy.bench;

import io.tracerboy.storage.Database;
import io.tracerboy.storage.EmbeddedDatabase;
import io.tracerboy.storage.EnginePreference;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A migrated database for the storage benchmarks: a fresh database on the server named by {@code DATABASE_URL}, or on
 * an embedded PostgreSQL (fsync on, as tracerboy runs it) when unset.
 */
final class BenchDatabase implements AutoCloseable {
    private final EmbeddedDatabase embedded;
    private final String adminUrl;
    private final String name;
    final String url;
    final Database database;

    BenchDatabase(int poolSize) throws IOException, SQLException {
        String external = System.getenv("DATABASE_URL");
        if (external == null || external.isBlank()) {
            embedded = EmbeddedDatabase.start(Files.createTempDirectory("tracerboy-bench"));
            adminUrl = embedded.jdbcUrl();
        } else {
            embedded = null;
            adminUrl = external;
        }
        name = "tb_bench_" + ProcessHandle.current().pid();
        try (Connection connection = DriverManager.getConnection(adminUrl); Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name);
            statement.execute("CREATE DATABASE " + name);
        }
        int query = adminUrl.indexOf('?');
        String base = query < 0 ? adminUrl : adminUrl.substring(0, query);
        url = base.substring(0, base.lastIndexOf('/') + 1) + name + (query < 0 ? "" : adminUrl.substring(query));
        database = new Database(url, null, null, poolSize);
        database.migrate(EnginePreference.AUTO);
    }

    void execute(String sql) throws SQLException {
        try (Connection connection = database.dataSource().getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    @Override
    public void close() throws IOException, SQLException {
        database.close();
        try (Connection connection = DriverManager.getConnection(adminUrl); Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
        if (embedded != null) {
            embedded.close();
        }
    }
}
