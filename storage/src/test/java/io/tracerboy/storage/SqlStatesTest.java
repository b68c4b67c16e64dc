package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class SqlStatesTest {
    @Test
    void connectionLossRestartsAndDeadlocksAreTransient() {
        assertThat(SqlStates.isTransient(new SQLException("connection refused", "08001"))).isTrue();
        assertThat(SqlStates.isTransient(new SQLException("terminating connection", "57P01"))).isTrue();
        assertThat(SqlStates.isTransient(new SQLException("deadlock detected", "40P01"))).isTrue();
        assertThat(SqlStates.isTransient(new SQLException("too many connections", "53300"))).isTrue();
        assertThat(SqlStates.isTransient(new SQLException("io", null, new IOException("reset")))).isTrue();
        assertThat(SqlStates.isTransient(new SQLTransientConnectionException("pool timed out"))).isTrue();
    }

    @Test
    void aPoolTimeoutCausedByARefusedPasswordIsNotTransient() {
        SQLException auth = new SQLException("password authentication failed", "28P01");
        assertThat(SqlStates.isTransient(new SQLTransientConnectionException("pool timed out", null, auth))).isFalse();
        assertThat(SqlStates.isTransient(new SQLException("database does not exist", "3D000"))).isFalse();
    }

    @Test
    void onlyDataExceptionsAndConstraintViolationsAreDataErrors() {
        assertThat(SqlStates.isDataError(new SQLException("check constraint", "23514"))).isTrue();
        assertThat(SqlStates.isDataError(new SQLException("invalid byte sequence", "22021"))).isTrue();
        assertThat(SqlStates.isDataError(new SQLException("relation does not exist", "42P01"))).isFalse();
        assertThat(SqlStates.isDataError(new SQLException("password authentication failed", "28P01"))).isFalse();
        assertThat(SqlStates.isDataError(new SQLException("no state"))).isFalse();
    }
}
