package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.storage.SqlStates.Failure;
import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class SqlStatesTest {
    @Test
    void connectionLossRestartsAndDeadlocksAreTransient() {
        assertThat(SqlStates.classify(new SQLException("connection refused", "08001"))).isEqualTo(Failure.TRANSIENT);
        assertThat(SqlStates.classify(new SQLException("terminating connection", "57P01"))).isEqualTo(
                Failure.TRANSIENT);
        assertThat(SqlStates.classify(new SQLException("deadlock detected", "40P01"))).isEqualTo(Failure.TRANSIENT);
        assertThat(SqlStates.classify(new SQLException("too many connections", "53300"))).isEqualTo(Failure.TRANSIENT);
        assertThat(SqlStates.classify(new SQLException("io", null, new IOException("reset")))).isEqualTo(
                Failure.TRANSIENT);
        assertThat(SqlStates.classify(new SQLTransientConnectionException("pool timed out"))).isEqualTo(
                Failure.TRANSIENT);
    }

    @Test
    void aPoolTimeoutCausedByARefusedPasswordIsNotTransient() {
        SQLException auth = new SQLException("password authentication failed", "28P01");
        assertThat(SqlStates.classify(new SQLTransientConnectionException("pool timed out", null, auth))).isEqualTo(
                Failure.SETUP);
        assertThat(SqlStates.classify(new SQLException("database does not exist", "3D000"))).isEqualTo(Failure.SETUP);
    }

    @Test
    void onlyDataExceptionsAndConstraintViolationsAreAboutTheData() {
        assertThat(SqlStates.classify(new SQLException("check constraint", "23514"))).isEqualTo(Failure.DATA);
        assertThat(SqlStates.classify(new SQLException("invalid byte sequence", "22021"))).isEqualTo(Failure.DATA);
        assertThat(SqlStates.classify(new SQLException("relation does not exist", "42P01"))).isEqualTo(Failure.SETUP);
        assertThat(SqlStates.classify(new SQLException("password authentication failed", "28P01"))).isEqualTo(
                Failure.SETUP);
    }

    /** Found by the storm: HikariCP's closed-connection error, surfacing through Flyway, stopped a replica for good. */
    @Test
    void aClosedConnectionWithoutSqlStateIsTransientButAnEngineThatCannotBeHadIsNot() {
        assertThat(SqlStates.classify(new SQLException("Connection is closed"))).isEqualTo(Failure.TRANSIENT);
        assertThat(SqlStates.classify(new RuntimeException("Unable to rollback transaction",
                new SQLException("Connection is closed")))).isEqualTo(Failure.TRANSIENT);
        assertThat(SqlStates.classify(new StorageEngine.UnavailableException(EnginePreference.CITUS, "no citus")))
                .isEqualTo(Failure.SETUP);
        assertThat(SqlStates.classify(new IllegalStateException("Validate failed: checksum mismatch"))).isEqualTo(
                Failure.SETUP);
    }
}
