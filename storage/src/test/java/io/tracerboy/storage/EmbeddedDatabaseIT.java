package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded PostgreSQL's data directory belongs to one owner at a time (across processes: StartupIT). */
class EmbeddedDatabaseIT {
    @TempDir
    Path temp;

    @Test
    void aSecondStartInTheSameProcessIsRefusedAndTheFirstServerKeepsServing() throws Exception {
        Path data = temp.resolve("data");
        try (EmbeddedDatabase first = EmbeddedDatabase.start(data)) {
            List<String> lockFileBefore = Files.readAllLines(data.resolve("postmaster.pid"));
            long postgresPid = Long.parseLong(lockFileBefore.get(0).trim());

            assertThatThrownBy(() -> EmbeddedDatabase.start(data))
                    .isInstanceOf(EmbeddedDatabase.DataDirectoryException.class)
                    .hasMessage("EMBEDDED_DATA_DIR: expected a directory no running tracerboy uses, found '" + data
                            + "', in use by the embedded PostgreSQL (pid " + postgresPid + ") of this process (pid "
                            + ProcessHandle.current().pid() + "); stop it or choose another directory");

            assertThat(Files.readAllLines(data.resolve("postmaster.pid"))).isEqualTo(lockFileBefore);
            try (Connection connection = DriverManager.getConnection(first.jdbcUrl())) {
                assertThat(connection.createStatement().execute("SELECT 1")).isTrue();
            }
        }
        // Stopped: the directory is free again.
        try (EmbeddedDatabase again = EmbeddedDatabase.start(data);
             Connection connection = DriverManager.getConnection(again.jdbcUrl())) {
            assertThat(connection.createStatement().execute("SELECT 1")).isTrue();
        }
    }
}
