package io.tracerboy.storage;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLTransientException;

/** Sorts database failures into worth-retrying and not, by SQLSTATE class. */
final class SqlStates {
    private SqlStates() {
    }

    /**
     * True for failures a retry of the same statement may cure: connection exceptions (08), insufficient resources (53),
     * operator intervention such as a server shutting down (57), transaction rollbacks such as deadlocks and
     * serialization failures (40), and I/O errors or pool timeouts without a SQLSTATE.
     */
    static boolean isTransient(SQLException e) {
        for (SQLException next = e; next != null; next = next.getNextException()) {
            String state = next.getSQLState();
            if (state != null && (state.startsWith("08") || state.startsWith("53") || state.startsWith("57")
                    || state.startsWith("40"))) {
                return true;
            }
            if (next instanceof SQLTransientException || next.getCause() instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
