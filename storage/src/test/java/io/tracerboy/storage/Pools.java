package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** What the storage tests ask of a pool. */
final class Pools {
    private Pools() {
    }

    /** True when a pooled connection answers a trivial query (after an outage, one dead connection is evicted). */
    static boolean answer(Database database) {
        for (int attempt = 0; attempt < 2; attempt++) {
            try (Connection connection = database.dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute("SELECT 1");
                return true;
            } catch (SQLException e) {
                // try once more with another connection
            }
        }
        return false;
    }
}
