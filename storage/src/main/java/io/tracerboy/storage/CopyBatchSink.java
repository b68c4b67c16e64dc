package io.tracerboy.storage;

import io.tracerboy.ingest.BatchSink;
import io.tracerboy.ingest.CommitUnknownException;
import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.TransientWriteException;
import io.tracerboy.ingest.WriteOutcome;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Writes each batch in one transaction: binary COPY into {@code events}, new (hour, user) pairs into
 * {@code hourly_users}, and per-hour deltas into {@code hourly_stats}. Rows are locked in sorted order (pairs by hour
 * then user, stats by hour) so that several processes writing the same hours cannot deadlock, and each batch records
 * its id in {@code written_batches} so a retry after a lost COMMIT reply is not applied twice. Answers which events
 * were resends of an id already counted. Called on the writer thread only.
 */
public final class CopyBatchSink implements BatchSink {
    private static final String CLAIM_SQL =
            "INSERT INTO written_batches (batch_id) VALUES (?) ON CONFLICT DO NOTHING";
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
            + " impressions = hourly_stats.impressions + excluded.impressions";
    private static final String RESENDS_SQL = "INSERT INTO event_ids (hour, event_id)"
            + " SELECT to_timestamp(h / 1000.0), e FROM unnest(?::bigint[], ?::text[]) AS t (h, e)"
            + " ON CONFLICT DO NOTHING RETURNING extract(epoch FROM hour)::bigint * 1000, event_id";
    private static final String DEAD_LETTER_SQL =
            "INSERT INTO dead_letters (ts_ms, user_id, kind, reason) VALUES (?, ?, ?, ?)";
    private static final int COPY_CHUNK_BYTES = 1 << 16;

    private final DataSource dataSource;
    private final BinaryCopyEncoder encoder = new BinaryCopyEncoder();
    private final CommittedUsers committedUsers;
    private final int eventIdRetentionHours;
    private final LongSupplier millisClock;

    /**
     * {@code userCachePairs} bounds the in-process memory of committed (hour, user) pairs (0 turns it off); event ids
     * are remembered for the hours of the last {@code eventIdRetentionHours}; {@code millisClock} decides which hours
     * are "around now" for both.
     */
    public CopyBatchSink(DataSource dataSource, long userCachePairs, int eventIdRetentionHours,
                         LongSupplier millisClock) {
        this.dataSource = dataSource;
        this.committedUsers = new CommittedUsers(userCachePairs, millisClock);
        this.eventIdRetentionHours = eventIdRetentionHours;
        this.millisClock = millisClock;
    }

    @Override
    public WriteOutcome write(EventBatch batch) throws Exception {
        HourlyDeltas deltas;
        BitSet resends = new BitSet();
        boolean claimed = false;
        boolean commitSent = false;
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            if (!claim(connection, batch.id())) {
                connection.rollback();
                return WriteOutcome.ALREADY_COMMITTED; // an earlier attempt committed, only its reply was lost
            }
            // Claimed: no earlier attempt committed, and none can any more (its claim would have blocked ours).
            claimed = true;
            resends = findResends(connection, batch, RetentionKeeper.eventIdsRememberedAfterMs(
                    millisClock.getAsLong(), eventIdRetentionHours));
            deltas = copyAndCount(connection, batch, resends);
            Map<Long, Long> newUsers = insertUsers(connection, deltas);
            upsertStats(connection, deltas, newUsers);
            commitSent = true;
            connection.commit();
        } catch (SQLException e) {
            throw failure(e, claimed, commitSent ? WriteOutcome.withResends(resends) : null);
        }
        committedUsers.addAll(deltas.usersByHour);
        return WriteOutcome.withResends(resends);
    }

    /** Stores refused events with the reason; fails as {@link #write} does. */
    @Override
    public void deadLetter(EventBatch batch, String reason) throws Exception {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement insert = connection.prepareStatement(DEAD_LETTER_SQL)) {
            for (int i = 0; i < batch.size(); i++) {
                insert.setLong(1, batch.timestampMs(i));
                insert.setBytes(2, batch.userId(i).getBytes(StandardCharsets.UTF_8));
                insert.setShort(3, batch.kind(i).code());
                insert.setString(4, reason);
                insert.addBatch();
            }
            insert.executeBatch();
        } catch (SQLException e) {
            throw failure(e, false, null);
        }
    }

    /**
     * What a failed statement is to the writer: the {@link SQLException} itself when the data was refused (SQLSTATE
     * classes 22, 23), so the writer isolates the offending events; otherwise a {@link TransientWriteException} to be
     * retried, saying whether the attempt had {@code claimed} the batch (so no earlier attempt committed) or, with the
     * outcome it would have had, sent its COMMIT ({@code outcomeIfCommitted} not null: a
     * {@link CommitUnknownException}).
     */
    private static Exception failure(SQLException e, boolean claimed, WriteOutcome outcomeIfCommitted) {
        if (SqlStates.classify(e) == SqlStates.Failure.DATA) {
            return e;
        }
        String message = e.getSQLState() == null ? String.valueOf(e.getMessage())
                : e.getSQLState() + " " + e.getMessage();
        return outcomeIfCommitted != null ? new CommitUnknownException(message, e, outcomeIfCommitted)
                : new TransientWriteException(message, e, claimed);
    }

    /** An event id within its UTC hour (start in epoch ms): what is counted at most once. */
    private record HourAndId(long hourMs, String eventId) implements Comparable<HourAndId> {
        @Override
        public int compareTo(HourAndId other) {
            int byHour = Long.compare(hourMs, other.hourMs);
            return byHour != 0 ? byHour : eventId.compareTo(other.eventId);
        }
    }

    /**
     * The events whose (hour, id) is already counted, by an earlier batch (the unique key of {@code event_ids}
     * decides, across every writer) or earlier in this one. Keys are inserted in sorted order so that writers sharing
     * ids take the index locks in the same order and cannot deadlock. An id whose hour began at or before
     * {@code rememberedAfterMs} is past its retention: it is neither looked up nor remembered, so the event counts
     * again, whether or not the {@link RetentionKeeper} has deleted the old row yet.
     */
    private static BitSet findResends(Connection connection, EventBatch batch, long rememberedAfterMs)
            throws SQLException {
        BitSet resends = new BitSet();
        Map<HourAndId, Integer> firstSeen = new TreeMap<>();
        for (int i = 0; i < batch.size(); i++) {
            String id = batch.eventId(i);
            long hourMs = Hours.startMs(batch.timestampMs(i));
            boolean remembered = id != null && hourMs > rememberedAfterMs;
            if (remembered && firstSeen.putIfAbsent(new HourAndId(hourMs, id), i) != null) {
                resends.set(i); // the same id earlier in this batch
            }
        }
        if (firstSeen.isEmpty()) {
            return resends;
        }
        long[] hours = new long[firstSeen.size()];
        String[] ids = new String[firstSeen.size()];
        int n = 0;
        for (HourAndId key : firstSeen.keySet()) {
            hours[n] = key.hourMs();
            ids[n++] = key.eventId();
        }
        Set<HourAndId> inserted = new HashSet<>();
        try (PreparedStatement insert = connection.prepareStatement(RESENDS_SQL)) {
            insert.setArray(1, PgArrays.bigints(connection, hours));
            insert.setArray(2, PgArrays.texts(connection, ids));
            try (ResultSet rs = insert.executeQuery()) {
                while (rs.next()) {
                    inserted.add(new HourAndId(rs.getLong(1), rs.getString(2)));
                }
            }
        }
        for (Map.Entry<HourAndId, Integer> first : firstSeen.entrySet()) {
            if (!inserted.contains(first.getKey())) {
                resends.set(first.getValue());
            }
        }
        return resends;
    }

    private static boolean claim(Connection connection, UUID batchId) throws SQLException {
        try (PreparedStatement claim = connection.prepareStatement(CLAIM_SQL)) {
            claim.setObject(1, batchId);
            return claim.executeUpdate() == 1;
        }
    }

    /**
     * COPYs the batch but its resends into {@code events} and counts it by hour on the way: rows are encoded and
     * looked up in chunks of {@value #COPY_CHUNK_BYTES} bytes, each sent as soon as it is full, so the server stores
     * one chunk while this thread prepares the next (measured: the writer's own work no longer adds to the server's).
     */
    private HourlyDeltas copyAndCount(Connection connection, EventBatch batch, BitSet resends) throws SQLException {
        CopyIn copyIn = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(BinaryCopyEncoder.COPY_SQL);
        try {
            HourlyDeltas deltas = new HourlyDeltas();
            encoder.start();
            for (int i = 0; i < batch.size(); i++) {
                if (resends.get(i)) {
                    continue; // acknowledged, not stored or counted again
                }
                deltas.add(batch, i, committedUsers);
                encoder.row(batch, i);
                if (encoder.length() >= COPY_CHUNK_BYTES) {
                    copyIn.writeToCopy(encoder.buffer(), 0, encoder.length());
                    encoder.clear();
                }
            }
            encoder.finish();
            copyIn.writeToCopy(encoder.buffer(), 0, encoder.length());
            copyIn.endCopy();
            return deltas;
        } finally {
            if (copyIn.isActive()) {
                copyIn.cancelCopy();
            }
        }
    }

    private static Map<Long, Long> insertUsers(Connection connection, HourlyDeltas deltas) throws SQLException {
        Map<Long, Long> newUsers = new HashMap<>();
        if (deltas.pairCount == 0) {
            return newUsers;
        }
        long[] hours = new long[deltas.pairCount];
        String[] users = new String[deltas.pairCount];
        int n = 0;
        for (Map.Entry<Long, Set<String>> entry : deltas.usersByHour.entrySet()) {
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

    private static void upsertStats(Connection connection, HourlyDeltas deltas, Map<Long, Long> newUsers)
            throws SQLException {
        int n = deltas.countsByHour.size();
        long[] hours = new long[n];
        long[] uniques = new long[n];
        long[] clicks = new long[n];
        long[] impressions = new long[n];
        int i = 0;
        for (Map.Entry<Long, long[]> entry : deltas.countsByHour.entrySet()) {
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
            upsert.executeUpdate();
        }
    }
}
