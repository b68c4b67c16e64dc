package io.tracerboy.storage;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.Hours;
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

/**
 * Which events of a batch are resends, and the key each event with an id is stored under ({@link EventKeys}). An event
 * is counted once per (timestamp, user, id) while its hour began less than {@code EVENT_ID_RETENTION_HOURS} ago: later
 * in the same batch, a second one is a resend; against what is stored, the unique index on {@code events (ts,
 * event_key)} decides. The writer COPYs optimistically and, when that index refuses a row, asks again with
 * {@link #findStored} first (see {@link CopyBatchSink}). Ids counted before the upgrade to keys are looked up in
 * {@code legacy_event_ids}, by (hour, id), until they are past retention. One per writer, on its thread.
 */
final class Resends {
    private static final String STORED_SQL = "SELECT (extract(epoch FROM ts) * 1000)::bigint, event_key FROM events"
            + " WHERE (ts, event_key) IN (SELECT timestamptz 'epoch' + t.ms * interval '1 millisecond', t.k"
            + " FROM unnest(?::bigint[], ?::bigint[]) AS t (ms, k))";
    private static final String LEGACY_SQL = "SELECT extract(epoch FROM hour)::bigint * 1000, event_id"
            + " FROM legacy_event_ids WHERE (hour, event_id) IN (SELECT timestamptz 'epoch' + t.h * interval"
            + " '1 millisecond', t.e FROM unnest(?::bigint[], ?::text[]) AS t (h, e))";

    /** A stored event's identity: its timestamp and key. */
    private record Stored(long timestampMs, long key) {
    }

    /** A legacy identity: the event's hour and id. */
    private record HourAndId(long hourMs, String eventId) {
    }

    /** The newest hour in legacy_event_ids, or Long.MIN_VALUE once there is none to look at; null: not looked yet. */
    private Long legacyUpToMs;

    /** The keys of one batch: which events carry one, the key, and which are resends already known. */
    static final class Keys {
        final BitSet keyed = new BitSet();
        final long[] keys;
        final BitSet resends = new BitSet();

        Keys(int events) {
            keys = new long[events];
        }
    }

    /**
     * The keys of {@code batch}: ids whose hour began at or before {@code rememberedAfterMs} are past retention and
     * get none (the event counts again); resends within the batch and of legacy ids are marked.
     */
    Keys keysOf(Connection connection, EventBatch batch, long rememberedAfterMs) throws SQLException {
        Keys keys = new Keys(batch.size());
        Set<Stored> seen = new HashSet<>();
        List<Integer> legacyCandidates = new ArrayList<>();
        long legacyUpTo = legacyUpToMs(connection, rememberedAfterMs);
        for (int i = 0; i < batch.size(); i++) {
            String id = batch.eventId(i);
            if (id == null) {
                continue;
            }
            long hourMs = Hours.startMs(batch.timestampMs(i));
            if (hourMs <= rememberedAfterMs) {
                continue;
            }
            long key = EventKeys.of(batch.userId(i), id);
            keys.keyed.set(i);
            keys.keys[i] = key;
            if (!seen.add(new Stored(batch.timestampMs(i), key))) {
                keys.resends.set(i);
            } else if (hourMs <= legacyUpTo) {
                legacyCandidates.add(i);
            }
        }
        if (!legacyCandidates.isEmpty()) {
            markLegacyResends(connection, batch, legacyCandidates, keys.resends);
        }
        return keys;
    }

    /** Marks, among the keyed events not yet known as resends, those already stored. */
    void findStored(Connection connection, EventBatch batch, Keys keys) throws SQLException {
        Map<Stored, Integer> asked = new HashMap<>();
        for (int i = keys.keyed.nextSetBit(0); i >= 0; i = keys.keyed.nextSetBit(i + 1)) {
            if (!keys.resends.get(i)) {
                asked.put(new Stored(batch.timestampMs(i), keys.keys[i]), i);
            }
        }
        if (asked.isEmpty()) {
            return;
        }
        long[] timestamps = new long[asked.size()];
        long[] eventKeys = new long[asked.size()];
        int n = 0;
        for (Stored event : asked.keySet()) {
            timestamps[n] = event.timestampMs();
            eventKeys[n++] = event.key();
        }
        try (PreparedStatement query = connection.prepareStatement(STORED_SQL)) {
            query.setArray(1, PgArrays.bigints(connection, timestamps));
            query.setArray(2, PgArrays.bigints(connection, eventKeys));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    Integer index = asked.get(new Stored(rs.getLong(1), rs.getLong(2)));
                    if (index != null) {
                        keys.resends.set(index);
                    }
                }
            }
        }
    }

    private void markLegacyResends(Connection connection, EventBatch batch, List<Integer> candidates, BitSet resends)
            throws SQLException {
        Map<HourAndId, Integer> asked = new HashMap<>();
        for (int i : candidates) {
            asked.putIfAbsent(new HourAndId(Hours.startMs(batch.timestampMs(i)), batch.eventId(i)), i);
        }
        long[] hours = new long[asked.size()];
        String[] ids = new String[asked.size()];
        int n = 0;
        for (HourAndId key : asked.keySet()) {
            hours[n] = key.hourMs();
            ids[n++] = key.eventId();
        }
        try (PreparedStatement query = connection.prepareStatement(LEGACY_SQL)) {
            query.setArray(1, PgArrays.bigints(connection, hours));
            query.setArray(2, PgArrays.texts(connection, ids));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    // Every event of the batch with this (hour, id): the first was counted before the upgrade.
                    HourAndId stored = new HourAndId(rs.getLong(1), rs.getString(2));
                    for (int i : candidates) {
                        if (Hours.startMs(batch.timestampMs(i)) == stored.hourMs()
                                && batch.eventId(i).equals(stored.eventId())) {
                            resends.set(i);
                        }
                    }
                }
            }
        }
    }

    /**
     * The newest hour that {@code legacy_event_ids} may still answer for, looked up once; {@code Long.MIN_VALUE} when
     * there is no such table or all of it is past retention (the keeper then drops it: never asked again).
     */
    private long legacyUpToMs(Connection connection, long rememberedAfterMs) throws SQLException {
        if (legacyUpToMs == null) {
            long upToMs = Long.MIN_VALUE;
            boolean exists;
            try (PreparedStatement query = connection.prepareStatement(
                    "SELECT to_regclass('legacy_event_ids') IS NOT NULL");
                 ResultSet rs = query.executeQuery()) {
                rs.next();
                exists = rs.getBoolean(1);
            }
            if (exists) {
                try (PreparedStatement query = connection.prepareStatement(
                        "SELECT extract(epoch FROM max(hour))::bigint * 1000 FROM legacy_event_ids");
                     ResultSet rs = query.executeQuery()) {
                    rs.next();
                    long upTo = rs.getLong(1);
                    upToMs = rs.wasNull() ? Long.MIN_VALUE : upTo;
                }
            }
            legacyUpToMs = upToMs; // only once known: a failed look is tried again with the batch's retry
        }
        if (legacyUpToMs <= rememberedAfterMs) {
            legacyUpToMs = Long.MIN_VALUE;
        }
        return legacyUpToMs;
    }
}
