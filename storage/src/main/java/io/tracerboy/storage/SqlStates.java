package io.tracerboy.storage;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLTransientException;

/** Sorts database failures by SQLSTATE: worth retrying, caused by the data, or neither. */
final class SqlStates {
    private SqlStates() {
    }

    /**
     * True for failures a retry of the same statement may cure: connection exceptions (08), insufficient resources (53),
     * operator intervention such as a server shutting down (57), transaction rollbacks such as deadlocks and
     * serialization failures (40), and I/O errors or pool timeouts that carry no SQLSTATE. The first SQLSTATE found
     * along the chain decides, so a pool timeout caused by a refused password (28P01) is not transient.
     */
    static boolean isTransient(SQLException e) {
        String state = firstState(e);
        if (state != null) {
            return state.startsWith("08") || state.startsWith("53") || state.startsWith("57") || state.startsWith("40");
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    /** True when the data itself was refused: data exceptions (22) and integrity constraint violations (23). */
    static boolean isDataError(SQLException e) {
        String state = firstState(e);
        return state != null && (state.startsWith("22") || state.startsWith("23"));
    }

    private static String firstState(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                for (SQLException next = sql; next != null; next = next.getNextException()) {
                    if (next.getSQLState() != null) {
                        return next.getSQLState();
                    }
                }
            }
        }
        return null;
    }
}
