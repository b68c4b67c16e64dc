package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Reads the per-hour aggregates: one primary-key lookup in {@code hourly_stats}, never a scan of {@code events}.
 * Thread-safe; called on Undertow worker threads.
 */
public final class HourlyStats {
    private static final String SQL =
            "SELECT unique_users, clicks, impressions FROM hourly_stats WHERE hour = to_timestamp(?)";

    private final DataSource dataSource;

    public HourlyStats(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The counts of the hour starting at {@code hourStartMs}; zeros for an hour with no events. */
    public HourlyCounts read(long hourStartMs) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement(SQL)) {
            query.setLong(1, hourStartMs / 1000);
            try (ResultSet rs = query.executeQuery()) {
                return rs.next() ? new HourlyCounts(rs.getLong(1), rs.getLong(2), rs.getLong(3)) : HourlyCounts.ZERO;
            }
        }
    }
}
