package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.testsupport.JarProcess;
import io.tracerboy.testsupport.TestDatabase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the real jar starts, fails to start, and starts again after a crash. */
class StartupIT {
    private static final int RUNS = 4;

    @TempDir
    Path temp;

    private static void assertOneErrorLineAndNoStackTrace(List<String> lines, String expected) {
        assertThat(lines).filteredOn(line -> line.contains("ERROR")).singleElement().asString().contains(expected);
        assertThat(lines).noneMatch(line -> line.startsWith("\tat ") || line.contains("Exception:"));
    }

    @Test
    void aMissingDatabaseStopsStartupWithOneLineAndExitOneEveryTime() throws Exception {
        try (TestDatabase database = TestDatabase.create()) {
            String missing = database.url().replace(database.name(), database.name() + "_missing");
            for (int run = 0; run < RUNS; run++) {
                JarProcess.Exit exit = JarProcess.runToExit(Map.of("DATABASE_URL", missing));
                assertThat(exit.status()).as("run %d: %s", run, exit.lines()).isEqualTo(1);
                assertOneErrorLineAndNoStackTrace(exit.lines(), "cannot migrate the schema: FATAL: database \""
                        + database.name() + "_missing\" does not exist");
            }
        }
    }

    @Test
    void aWrongPasswordStopsStartupWithOneLineAndExitOneEveryTime() throws Exception {
        try (TestDatabase database = TestDatabase.create()) {
            String wrong = database.url().replaceAll("password=[^&]*", "").replaceAll("[?&]$", "")
                    + (database.url().contains("?") ? "&" : "?") + "password=wrong-" + System.nanoTime();
            boolean passwordsChecked;
            try (var connection = DriverManager.getConnection(wrong)) {
                passwordsChecked = false;
            } catch (SQLException refused) {
                passwordsChecked = "28P01".equals(refused.getSQLState());
            }
            Assumptions.assumeTrue(passwordsChecked, "skipped: this PostgreSQL does not check passwords (trust "
                    + "authentication, as the embedded one); CI's PostgreSQL 15 does");
            for (int run = 0; run < RUNS; run++) {
                JarProcess.Exit exit = JarProcess.runToExit(Map.of("DATABASE_URL", wrong));
                assertThat(exit.status()).as("run %d: %s", run, exit.lines()).isEqualTo(1);
                assertOneErrorLineAndNoStackTrace(exit.lines(), "cannot migrate the schema: FATAL: password "
                        + "authentication failed");
            }
        }
    }

    @Test
    void insistingOnTimescaledbWhereItCannotBeHadStopsStartupSayingWhy() throws Exception {
        JarProcess.Exit exit = JarProcess.runToExit(Map.of("EMBEDDED_DATA_DIR", temp.resolve("data").toString(),
                "STORAGE_ENGINE", "timescaledb"));

        assertThat(exit.status()).isEqualTo(1);
        assertOneErrorLineAndNoStackTrace(exit.lines(), "STORAGE_ENGINE: expected auto or postgresql, found "
                + "'timescaledb', but the database server has no timescaledb extension installed");
    }

    @Test
    void aPortInUseStopsStartupBeforeTheEmbeddedDatabaseStarts() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            JarProcess.Exit exit = JarProcess.runToExit(Map.of("PORT", Integer.toString(taken.getLocalPort()),
                    "EMBEDDED_DATA_DIR", temp.resolve("data").toString()));

            assertThat(exit.status()).isEqualTo(1);
            assertOneErrorLineAndNoStackTrace(exit.lines(), "cannot start: PORT: expected a free port, found "
                    + taken.getLocalPort() + " in use on 127.0.0.1");
            assertThat(exit.lines()).noneMatch(line -> line.contains("starting embedded PostgreSQL")
                    || line.contains("stopped"));
        }
    }

    @Test
    void anEmbeddedDataDirectoryThatIsAFileStopsStartupSayingSo() throws Exception {
        Path file = Files.writeString(temp.resolve("passwd"), "root:x:0:0");
        JarProcess.Exit exit = JarProcess.runToExit(Map.of("EMBEDDED_DATA_DIR", file.toString()));

        assertThat(exit.status()).isEqualTo(1);
        assertOneErrorLineAndNoStackTrace(exit.lines(), "cannot start: EMBEDDED_DATA_DIR: expected an empty directory "
                + "or a PostgreSQL data directory, found '" + file + "', which is a file");
    }

    @Test
    void theEmbeddedSetupRestartsAfterKillMinus9AndKeepsEveryCommittedRow() throws Exception {
        Map<String, String> env = Map.of("EMBEDDED_DATA_DIR", temp.resolve("data").toString(), "ACK_MODE", "committed");
        Optional<ProcessHandle> leftover = Optional.empty();
        try {
            try (JarProcess first = new JarProcess(env)) {
                for (int n = 0; n < 20; n++) {
                    assertThat(post(first, "user=u" + n + "&event=click")).isEqualTo(204); // committed: stored
                }
                first.signal(true);
                assertThat(first.awaitExit()).isEqualTo(137);
            }
            leftover = postmaster(temp.resolve("data"));
            assertThat(leftover).as("the embedded PostgreSQL outlives a kill -9 of the JVM").isPresent();

            try (JarProcess second = new JarProcess(env)) {
                assertThat(second.output()).anyMatch(line -> line.contains("left running by an earlier tracerboy"));
                HttpResponse<String> counts = second.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + second.port() + "/analytics")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(counts.body()).isEqualTo("unique_users,20\nclicks,20\nimpressions,0\n");
                second.signal(false);
                assertThat(second.awaitExit()).isZero();
            }
            assertThat(postmaster(temp.resolve("data"))).as("a graceful stop leaves no server behind").isEmpty();
        } finally {
            leftover.ifPresent(ProcessHandle::destroy);
        }
    }

    @Test
    void aSecondStartOnADataDirectoryInUseRefusesNamingItsOwnerAndTheFirstLosesNothing() throws Exception {
        Path data = temp.resolve("data");
        Map<String, String> env = Map.of("EMBEDDED_DATA_DIR", data.toString());
        try (JarProcess first = new JarProcess(env)) {
            for (int n = 0; n < 10; n++) {
                assertThat(post(first, "user=before" + n + "&event=click")).isEqualTo(204);
            }
            long postgresPid = postmaster(data).orElseThrow().pid();
            List<String> lockFileBefore = Files.readAllLines(data.resolve("postmaster.pid"));

            JarProcess.Exit second = JarProcess.runToExit(env);

            assertThat(second.status()).as("%s", second.lines()).isEqualTo(1);
            assertOneErrorLineAndNoStackTrace(second.lines(), "cannot start: EMBEDDED_DATA_DIR: expected a directory "
                    + "no running tracerboy uses, found '" + data + "', in use by the embedded PostgreSQL (pid "
                    + postgresPid + ") of the running process " + first.pid() + "; stop it or choose another "
                    + "directory");
            assertThat(second.lines()).noneMatch(line -> line.contains("stopping it"));
            // Untouched: the same server, still "ready" in its lock file (a smart shutdown writes "stopping"), and it
            // still takes new connections (a stopping server refuses them).
            assertThat(Files.readAllLines(data.resolve("postmaster.pid"))).isEqualTo(lockFileBefore);
            try (var connection = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + lockFileBefore.get(3)
                    .trim() + "/postgres?user=postgres"); var statement = connection.createStatement()) {
                assertThat(statement.execute("SELECT 1")).isTrue();
            }

            for (int n = 0; n < 10; n++) {
                assertThat(post(first, "user=after" + n + "&event=click")).isEqualTo(204);
            }
            Awaitility.await("every event counted").atMost(Duration.ofSeconds(30)).until(() -> get(first),
                    "unique_users,20\nclicks,20\nimpressions,0\n"::equals);
            first.signal(false);
            assertThat(first.awaitExit()).isZero();
            assertThat(first.output()).anyMatch(line -> line.contains("stopped: 20 events written in all, none lost"));
        }
    }

    private static String get(JarProcess tracerboy) throws Exception {
        return tracerboy.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tracerboy.port()
                + "/analytics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int post(JarProcess tracerboy, String query) throws Exception {
        return tracerboy.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tracerboy.port()
                + "/analytics?" + query)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** The live PostgreSQL named by the data directory's lock file, if any. */
    private static Optional<ProcessHandle> postmaster(Path dataDirectory) throws Exception {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return Optional.empty();
        }
        return ProcessHandle.of(Long.parseLong(Files.readAllLines(pidFile).get(0).trim())).filter(
                ProcessHandle::isAlive);
    }
}
