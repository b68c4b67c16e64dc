package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every {@link #INTERVAL_MS} that the database answers, on a connection of its own (a busy pool must not look
 * like an outage), so that readiness and GETs answer at once from {@link #lastKnownReachable()} instead of waiting out
 * a connection timeout while the database is away. One thread, {@code tracerboy-db-probe}; the answer is volatile.
 */
final class DatabaseProbe {
    /** How often the probe checks, and so how stale {@link #lastKnownReachable()} can be. */
    static final long INTERVAL_MS = 1_000;
    private static final int TIMEOUT_SECONDS = 1;
    private static final Logger log = LoggerFactory.getLogger(DatabaseProbe.class);

    private final String jdbcUrl;
    private final Properties properties = new Properties();
    private final Thread thread;
    private volatile boolean reachable = true;
    private Connection connection;

    DatabaseProbe(String jdbcUrl, Properties credentials) {
        this.jdbcUrl = jdbcUrl;
        properties.putAll(credentials);
        properties.setProperty("connectTimeout", Integer.toString(TIMEOUT_SECONDS));
        properties.setProperty("socketTimeout", Integer.toString(TIMEOUT_SECONDS + 1));
        properties.setProperty("ApplicationName", "tracerboy-probe");
        this.thread = new Thread(this::loop, "tracerboy-db-probe");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() {
        thread.interrupt();
    }

    /** The last answer (true until there is one); a volatile read, never blocks. */
    boolean lastKnownReachable() {
        return reachable;
    }

    private void loop() {
        while (!Thread.currentThread().isInterrupted()) {
            boolean answered = probeOnce();
            if (answered != reachable) {
                reachable = answered;
                log.info("database {}", answered ? "reachable again" : "unreachable");
            }
            try {
                Thread.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                break;
            }
        }
        closeConnection();
    }

    private boolean probeOnce() {
        try {
            if (connection == null) {
                connection = DriverManager.getConnection(jdbcUrl, properties);
            }
            if (connection.isValid(TIMEOUT_SECONDS)) {
                return true;
            }
        } catch (SQLException e) {
            // unreachable, or the server refused us: either way not ready
        }
        closeConnection();
        return false;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // already broken
            }
            connection = null;
        }
    }
}
