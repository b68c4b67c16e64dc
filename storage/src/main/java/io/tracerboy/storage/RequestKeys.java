package io.tracerboy.storage;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.RequestKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The {@code Idempotency-Key}s of batch requests, one row each in {@code request_keys} (day partitions, dropped by the
 * retention thread after {@code EVENT_ID_RETENTION_HOURS}). The edge looks a key up ({@link #find}) to answer a resend
 * with the original result, or a {@code 422} for another body; the writer decides in the batch's transaction, under an
 * advisory lock per key taken in key order, so that two copies of one request sent at once — through two replicas —
 * are stored once: the second finds the first's row and its events count as resends. A request the writer had to split
 * (isolating an event the database refused) is written without its key.
 */
public final class RequestKeys {
    private static final String FIND_SQL = "SELECT body_sha256, accepted, resent FROM request_keys"
            + " WHERE key = ? AND received_at > to_timestamp(? / 1000.0) ORDER BY received_at LIMIT 1";
    private static final String LOCK_SQL =
            "SELECT pg_advisory_xact_lock(hashtextextended('tracerboy request ' || k, 0))"
                    + " FROM unnest(?::text[]) AS t (k) ORDER BY k";
    private static final String STORED_SQL = "SELECT DISTINCT ON (key) key, body_sha256 FROM request_keys"
            + " WHERE key = ANY (?::text[]) AND received_at > to_timestamp(? / 1000.0)"
            + " ORDER BY key, received_at";
    private static final String RECORD_SQL = "INSERT INTO request_keys (received_at, key, body_sha256, accepted,"
            + " resent) SELECT to_timestamp(? / 1000.0), k, s, a, r"
            + " FROM unnest(?::text[], ?::bytea[], ?::integer[], ?::integer[])"
            + " AS t (k, s, a, r)";

    /** What the first request with a key was answered: its body's hash, events accepted, and resends among them. */
    public record Stored(byte[] bodySha256, int accepted, int resent) {
        public boolean sameBody(byte[] sha256) {
            return Arrays.equals(bodySha256, sha256);
        }
    }

    private RequestKeys() {
    }

    /** The request recorded under {@code key} after {@code afterMs}, or null. */
    public static Stored find(DataSource dataSource, String key, long afterMs) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement(FIND_SQL)) {
            query.setString(1, key);
            query.setLong(2, afterMs);
            try (ResultSet rs = query.executeQuery()) {
                return rs.next() ? new Stored(rs.getBytes(1), rs.getInt(2), rs.getInt(3)) : null;
            }
        }
    }

    /**
     * In the batch's transaction: locks the keys of the batch's whole requests and marks in {@code resends} every event
     * of a request already recorded after {@code afterMs} with the same body; answers the requests to record. A key
     * recorded with another body (two bodies raced past the edge's check) is not this request's: its events are
     * written, and the first body keeps the key.
     */
    static List<RequestKey> settle(Connection connection, EventBatch batch, BitSet resends, long afterMs)
            throws SQLException {
        Map<RequestKey, List<Integer>> whole = wholeRequests(batch);
        if (whole.isEmpty()) {
            return List.of();
        }
        List<RequestKey> requests = new ArrayList<>(whole.keySet());
        requests.sort(Comparator.comparing(RequestKey::key));
        String[] keys = requests.stream().map(RequestKey::key).distinct().toArray(String[]::new);
        try (PreparedStatement lock = connection.prepareStatement(LOCK_SQL)) {
            lock.setArray(1, connection.createArrayOf("text", keys));
            lock.executeQuery().close();
        }
        Map<String, byte[]> stored = new HashMap<>();
        try (PreparedStatement query = connection.prepareStatement(STORED_SQL)) {
            query.setArray(1, connection.createArrayOf("text", keys));
            query.setLong(2, afterMs);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    stored.put(rs.getString(1), rs.getBytes(2));
                }
            }
        }
        List<RequestKey> toRecord = new ArrayList<>();
        for (RequestKey request : requests) {
            byte[] first = stored.get(request.key());
            if (first == null) {
                stored.put(request.key(), request.bodySha256()); // the same key twice in one batch: the first wins
                toRecord.add(request);
            } else if (Arrays.equals(first, request.bodySha256())) {
                whole.get(request).forEach(resends::set);
            }
        }
        return toRecord;
    }

    /** Records {@code requests} at {@code nowMs}, in the batch's transaction, with the resends among their events. */
    static void record(Connection connection, EventBatch batch, List<RequestKey> requests, BitSet resends, long nowMs)
            throws SQLException {
        if (requests.isEmpty()) {
            return;
        }
        Map<RequestKey, int[]> resent = new IdentityHashMap<>();
        requests.forEach(request -> resent.put(request, new int[1]));
        for (int i = resends.nextSetBit(0); i >= 0; i = resends.nextSetBit(i + 1)) {
            int[] count = batch.request(i) == null ? null : resent.get(batch.request(i));
            if (count != null) {
                count[0]++;
            }
        }
        int n = requests.size();
        String[] keys = new String[n];
        byte[][] hashes = new byte[n][];
        Integer[] accepted = new Integer[n];
        Integer[] resentCounts = new Integer[n];
        for (int i = 0; i < n; i++) {
            RequestKey request = requests.get(i);
            keys[i] = request.key();
            hashes[i] = request.bodySha256();
            accepted[i] = request.events();
            resentCounts[i] = resent.get(request)[0];
        }
        try (PreparedStatement insert = connection.prepareStatement(RECORD_SQL)) {
            insert.setLong(1, nowMs);
            insert.setArray(2, connection.createArrayOf("text", keys));
            insert.setArray(3, connection.createArrayOf("bytea", hashes));
            insert.setArray(4, connection.createArrayOf("integer", accepted));
            insert.setArray(5, connection.createArrayOf("integer", resentCounts));
            insert.executeUpdate();
        }
    }

    /** The keyed requests whose every event is in the batch, with their events' indexes. */
    private static Map<RequestKey, List<Integer>> wholeRequests(EventBatch batch) {
        Map<RequestKey, List<Integer>> byRequest = new IdentityHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            RequestKey request = batch.request(i);
            if (request != null) {
                byRequest.computeIfAbsent(request, r -> new ArrayList<>()).add(i);
            }
        }
        byRequest.entrySet().removeIf(entry -> entry.getValue().size() != entry.getKey().events());
        return byRequest;
    }
}
