package io.tracerboy.storage;

import java.io.IOException;
import java.sql.SQLException;

/**
 * The one classification of database failures, by SQLSTATE, that every caller applies its policy to: the writer
 * isolates {@link Failure#DATA} and retries the rest (acknowledged events wait in the ring for a fix); schema migration
 * at startup retries {@link Failure#TRANSIENT} and stops on the rest, with one line.
 */
final class SqlStates {
    /** What a failure is about. */
    enum Failure {
        /** The data itself was refused: data exceptions (22), integrity constraint violations (23). */
        DATA,
        /**
         * A retry of the same statement may cure it: connection exceptions (08), insufficient resources (53), operator
         * intervention such as a server shutting down (57), transaction rollbacks such as deadlocks (40), and I/O
         * errors, pool timeouts and closed connections that carry no SQLSTATE.
         */
        TRANSIENT,
        /** Anything else: a wrong password, a missing database or table, missing privileges. */
        SETUP
    }

    private SqlStates() {
    }

    /**
     * Classifies {@code failure} by the first SQLSTATE along its cause chain, so a pool timeout caused by a refused
     * password (28P01) is {@link Failure#SETUP}, not transient.
     */
    static Failure classify(Throwable failure) {
        String state = firstState(failure);
        if (state != null) {
            if (state.startsWith("22") || state.startsWith("23")) {
                return Failure.DATA;
            }
            return state.startsWith("08") || state.startsWith("53") || state.startsWith("57") || state.startsWith("40")
                    ? Failure.TRANSIENT : Failure.SETUP;
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof StorageEngine.UnavailableException) {
                return Failure.SETUP; // ours: the engine insisted on cannot be had
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            // No SQLSTATE: the server did not refuse anything; the pool or the driver reports the state of a
            // connection, e.g. HikariCP's "Connection is closed" after a connection died under Flyway (found by the
            // storm: it stopped a replica starting during a database restart as if the setup were wrong).
            if (t instanceof SQLException || t instanceof IOException) {
                return Failure.TRANSIENT;
            }
        }
        return Failure.SETUP;
    }

    private static String firstState(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
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
