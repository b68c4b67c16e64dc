package io.tracerboy.storage;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A batch grouped by UTC hour (keys are hour starts in epoch ms): click and impression counts, and the users not known
 * to be committed already for that hour. Sorted by hour, so the aggregates are locked in the same order by every
 * writer. Built on the writer thread while the batch is COPYed.
 */
final class HourlyDeltas {
    private static final String USERS_SQL = "WITH inserted AS ("
            + " INSERT INTO hourly_users (hour, user_id)"
            + " SELECT to_timestamp(h / 1000.0), u FROM unnest(?::bigint[], ?::text[]) AS t (h, u)"
            + " ON CONFLICT DO NOTHING RETURNING hour)"
            + " SELECT extract(epoch FROM hour)::bigint * 1000, count(*) FROM inserted GROUP BY hour";
    private static final String STATS_SQL = "INSERT INTO hourly_stats (hour, unique_users, clicks, impressions)"
            + " SELECT to_timestamp(h / 1000.0), n, c, i"
            + " FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) AS t (h, n, c, i)"
            + " ON CONFLICT (hour) DO UPDATE SET unique_users = hourly_stats.unique_users + excluded.unique_users,"
            + " clicks = hourly_stats.clicks + excluded.clicks,"
            + " impressions = hourly_stats.impressions + excluded.impressions"
            + " RETURNING extract(epoch FROM hour)::bigint * 1000, unique_users, clicks, impressions";
    final TreeMap<Long, long[]> countsByHour = new TreeMap<>();
    final TreeMap<Long, Set<String>> usersByHour = new TreeMap<>();
    int pairCount;

    private long lastHourMs = Long.MIN_VALUE;
    private long[] counts;
    private Set<String> users;

    /** Counts event {@code i} of {@code batch}; its user is a candidate unless {@code committed} knows the pair. */
    void add(EventBatch batch, int i, CommittedUsers committed) {
        long hourMs = Hours.startMs(batch.timestampMs(i));
        if (hourMs != lastHourMs) {
            lastHourMs = hourMs;
            counts = countsByHour.computeIfAbsent(hourMs, h -> new long[2]);
            users = usersByHour.computeIfAbsent(hourMs, h -> new HashSet<>());
        }
        counts[batch.kind(i) == EventKind.CLICK ? 0 : 1]++;
        String user = batch.userId(i);
        if (!committed.contains(hourMs, user) && users.add(user)) {
            pairCount++;
        }
    }

    /**
     * In the batch's transaction: inserts the candidate (hour, user) pairs and answers, per hour, how many were new
     * (inserted rows, never incoming ones), for {@link #upsertStats}.
     */
    Map<Long, Long> insertUsers(Connection connection) throws SQLException {
        Map<Long, Long> newUsers = new HashMap<>();
        if (pairCount == 0) {
            return newUsers;
        }
        long[] hours = new long[pairCount];
        String[] users = new String[pairCount];
        int n = 0;
        for (Map.Entry<Long, Set<String>> entry : usersByHour.entrySet()) {
            // Sorted by hour (TreeMap) then user: every writer takes the unique-index locks in the same order.
            List<String> sorted = new ArrayList<>(entry.getValue());
            sorted.sort(null);
            for (String user : sorted) {
                hours[n] = entry.getKey();
                users[n++] = user;
            }
        }
        try (PreparedStatement insert = connection.prepareStatement(USERS_SQL)) {
            insert.setArray(1, PgArrays.bigints(connection, hours));
            insert.setArray(2, PgArrays.texts(connection, users));
            try (ResultSet rs = insert.executeQuery()) {
                while (rs.next()) {
                    newUsers.put(rs.getLong(1), rs.getLong(2));
                }
            }
        }
        return newUsers;
    }

    /**
     * In the batch's transaction, as its last statement before COMMIT: adds to each hour's {@code hourly_stats} row
     * its clicks, impressions and {@code newUsers} ({@link #insertUsers}). Every writer (lanes, replicas) updates the
     * current hour's row, so each holds its lock for as short a time as it can: from here to its COMMIT. Answers
     * each hour's row as it left it: since the row stays locked until COMMIT, the values that COMMIT makes visible.
     */
    Map<Long, HourlyCounts> upsertStats(Connection connection, Map<Long, Long> newUsers) throws SQLException {
        int n = countsByHour.size();
        long[] hours = new long[n];
        long[] uniques = new long[n];
        long[] clicks = new long[n];
        long[] impressions = new long[n];
        int i = 0;
        for (Map.Entry<Long, long[]> entry : countsByHour.entrySet()) {
            hours[i] = entry.getKey();
            uniques[i] = newUsers.getOrDefault(entry.getKey(), 0L);
            clicks[i] = entry.getValue()[0];
            impressions[i] = entry.getValue()[1];
            i++;
        }
        try (PreparedStatement upsert = connection.prepareStatement(STATS_SQL)) {
            upsert.setArray(1, PgArrays.bigints(connection, hours));
            upsert.setArray(2, PgArrays.bigints(connection, uniques));
            upsert.setArray(3, PgArrays.bigints(connection, clicks));
            upsert.setArray(4, PgArrays.bigints(connection, impressions));
            Map<Long, HourlyCounts> after = new HashMap<>();
            try (ResultSet rs = upsert.executeQuery()) {
                while (rs.next()) {
                    after.put(rs.getLong(1), new HourlyCounts(rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
            return after;
        }
    }
}
