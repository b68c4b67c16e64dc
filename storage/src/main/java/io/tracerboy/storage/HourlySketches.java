package io.tracerboy.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;

/**
 * This writer's HyperLogLog sketch of each hour's users, kept in memory and stored as its own row of
 * {@code hourly_sketches} in the batch's transaction ({@link #write}); the in-memory sketches take the batch's users
 * only once that transaction has committed ({@link #onCommitted}). Until then they are the committed state: a batch
 * whose transaction failed, or whose COMMIT's outcome is unknown, leaves its hours to be read back from this writer's
 * rows at the next write. Writer thread only.
 */
final class HourlySketches {
    /** log2 of the sketch's buckets: 4 096, a relative standard error of about 1.6 %, ~2.6 kB stored per hour. */
    static final int LG_K = 12;
    /** Hours held in memory; beyond it the oldest is dropped and read back from its row if it is written again. */
    static final int MAX_HOURS_IN_MEMORY = 256;
    private static final String OWN_ROW_SQL =
            "SELECT sketch FROM hourly_sketches WHERE hour = to_timestamp(? / 1000.0) AND writer = ?";
    private static final String UPSERT_SQL = "INSERT INTO hourly_sketches (hour, writer, sketch)"
            + " VALUES (to_timestamp(? / 1000.0), ?, ?)"
            + " ON CONFLICT (hour, writer) DO UPDATE SET sketch = excluded.sketch";

    private final UUID writer = UUID.randomUUID();
    private final TreeMap<Long, HllSketch> byHour = new TreeMap<>();
    private Map<Long, HllSketch> pending;

    /** This process incarnation's id, the {@code writer} of its rows. */
    UUID writer() {
        return writer;
    }

    /**
     * In the batch's transaction: adds {@code usersByHour} (hour start in ms to users) to copies of this writer's
     * sketches of those hours and upserts them, in hour order.
     */
    void write(Connection connection, Map<Long, ? extends Set<String>> usersByHour) throws SQLException {
        if (pending != null) {
            byHour.keySet().removeAll(pending.keySet()); // never confirmed: read those hours back from the rows
        }
        pending = new TreeMap<>();
        try (PreparedStatement upsert = connection.prepareStatement(UPSERT_SQL)) {
            for (Map.Entry<Long, ? extends Set<String>> entry : new TreeMap<>(usersByHour).entrySet()) {
                if (entry.getValue().isEmpty()) {
                    continue;
                }
                HllSketch sketch = committed(connection, entry.getKey()).copy();
                for (String user : entry.getValue()) {
                    sketch.update(user);
                }
                pending.put(entry.getKey(), sketch);
                upsert.setLong(1, entry.getKey());
                upsert.setObject(2, writer);
                upsert.setBytes(3, sketch.toCompactByteArray());
                upsert.addBatch();
            }
            if (!pending.isEmpty()) {
                upsert.executeBatch();
            }
        }
    }

    /** The transaction of the last {@link #write} committed: its sketches become the ones in memory. */
    void onCommitted() {
        if (pending == null) {
            return;
        }
        byHour.putAll(pending);
        pending = null;
        while (byHour.size() > MAX_HOURS_IN_MEMORY) {
            byHour.pollFirstEntry();
        }
    }

    /** This writer's committed sketch of the hour, if in memory (never changed afterwards: writes copy it). */
    HllSketch committed(long hourMs) {
        return byHour.get(hourMs);
    }

    private HllSketch committed(Connection connection, long hourMs) throws SQLException {
        HllSketch sketch = byHour.get(hourMs);
        if (sketch != null) {
            return sketch;
        }
        try (PreparedStatement select = connection.prepareStatement(OWN_ROW_SQL)) {
            select.setLong(1, hourMs);
            select.setObject(2, writer);
            try (ResultSet rs = select.executeQuery()) {
                sketch = rs.next() ? HllSketch.heapify(rs.getBytes(1)).copyAs(TgtHllType.HLL_8)
                        : new HllSketch(LG_K, TgtHllType.HLL_8);
            }
        }
        byHour.put(hourMs, sketch);
        return sketch;
    }
}
