package io.tracerboy.storage;

import java.sql.Array;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.PGConnection;

/**
 * PostgreSQL arrays for {@code unnest(?::bigint[], …)} statements, built by pgjdbc from primitive arrays without
 * boxing. Instants travel as epoch milliseconds, one unit on the Java side: the SQL converts at the edge
 * ({@code to_timestamp(ms / 1000.0)} in, {@code extract(epoch FROM …) * 1000} out).
 */
final class PgArrays {
    private PgArrays() {
    }

    static Array bigints(Connection connection, long[] values) throws SQLException {
        return connection.unwrap(PGConnection.class).createArrayOf("int8", values);
    }

    static Array texts(Connection connection, String[] values) throws SQLException {
        return connection.unwrap(PGConnection.class).createArrayOf("text", values);
    }
}
