package io.tracerboy.testsupport;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;

/**
 * A fresh, empty database per test class on a real PostgreSQL: the server named by {@code DATABASE_URL} when set
 * (its user needs CREATEDB), otherwise one embedded server per test JVM. Closing drops the database.
 */
public final class TestDatabase implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static String adminUrl;

    private final String admin;
    private final String name;
    private final String url;

    private TestDatabase(String admin, String name, String url) {
        this.admin = admin;
        this.name = name;
        this.url = url;
    }

    /** Creates a new empty database. */
    public static TestDatabase create() {
        return create(adminUrl());
    }

    /** Creates a new empty database on the server of {@code admin}, a JDBC URL whose user may create databases. */
    public static TestDatabase create(String admin) {
        String name = "tb_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
        try (Connection connection = DriverManager.getConnection(
                admin); Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name);
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create a test database on " + admin + ": " + e.getMessage(), e);
        }
        return new TestDatabase(admin, name, withDatabase(admin, name));
    }

    /** JDBC URL of this database, credentials included. */
    public String url() {
        return url;
    }

    public String name() {
        return name;
    }

    /** Runs a query answering one number. */
    public long queryLong(String sql) throws SQLException {
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() throws SQLException {
        try (Connection connection = DriverManager.getConnection(admin);
             Statement statement = connection.createStatement()) {
            try {
                statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (SQLException notAllowed) {
                // FORCE needs the right to signal every backend on it (an autovacuum worker's, another role's): a user
                // with only CREATEDB gets an error; a plain DROP waits for autovacuum and is retried meanwhile.
                Awaitility.await("DROP DATABASE " + name).atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                        .until(() -> statement.execute("DROP DATABASE IF EXISTS " + name) || true);
            }
        }
    }

    private static synchronized String adminUrl() {
        if (adminUrl == null) {
            String external = System.getenv("DATABASE_URL");
            if (external != null && !external.isBlank()) {
                adminUrl = external;
            } else {
                try {
                    // Durable as tracerboy runs its embedded server, so benchmarks on it measure the real cost.
                    EmbeddedPostgres embedded = EmbeddedPostgres.builder().setServerConfig("fsync", "on")
                            .setServerConfig("synchronous_commit", "on").setServerConfig("full_page_writes", "on")
                            .start();
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            embedded.close();
                        } catch (IOException ignored) {
                            // the JVM is exiting; the temp directory goes with the machine
                        }
                    }));
                    adminUrl = embedded.getJdbcUrl("postgres", "postgres");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return adminUrl;
    }

    /** The same URL with its database path replaced. */
    public static String withDatabase(String jdbcUrl, String database) {
        int hostStart = jdbcUrl.indexOf("//") + 2;
        int pathStart = jdbcUrl.indexOf('/', hostStart);
        int queryStart = jdbcUrl.indexOf('?', hostStart);
        String hostPart = jdbcUrl.substring(0, pathStart < 0 ? (queryStart < 0 ? jdbcUrl.length() : queryStart)
                : pathStart);
        String query = queryStart < 0 ? "" : jdbcUrl.substring(queryStart);
        return hostPart + "/" + database + query;
    }
}
