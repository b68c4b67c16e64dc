package io.tracerboy.storage;

import io.tracerboy.ingest.BatchSink;
import io.tracerboy.ingest.CommitUnknownException;
import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.RequestKey;
import io.tracerboy.ingest.TransientWriteException;
import io.tracerboy.ingest.WriteOutcome;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.util.PSQLException;

/**
 * Writes each batch in one transaction: binary COPY into {@code events} (with the key of each event that has an id),
 * new (hour, user) pairs into {@code hourly_users}, this writer's sketch of each hour's users into {@code
 * hourly_sketches} ({@link HourlySketches}), and last the per-hour deltas into {@code hourly_stats}, the one row every
 * writer of the hour updates, so that its lock is held only until COMMIT. One sink per writer lane. Rows are locked in
 * sorted order (keyed events by timestamp then key, pairs by hour then user, stats by hour), and the tables in that
 * order too, so that several lanes and processes writing the same rows cannot deadlock, and each batch records its id
 * in {@code written_batches} so a retry after a lost COMMIT reply is not applied twice. Resends are found
 * optimistically: the COPY goes first, and only when the unique index on (ts, event_key) refuses a row is the batch
 * written again, asking which keys are stored first (and so for the next {@value #CAREFUL_BATCHES} batches: resends
 * come in runs). A batch request's {@code Idempotency-Key} is recorded in the same transaction, and a request recorded
 * already is skipped whole ({@link RequestKeys}). A day partition a batch needs and does not find is created first,
 * outside the batch's transaction ({@link MissingDays}). Answers which events were resends. Writer thread only.
 */
public final class CopyBatchSink implements BatchSink {
    private static final String CLAIM_SQL =
            "INSERT INTO written_batches (batch_id) VALUES (?) ON CONFLICT DO NOTHING";
    private static final String DEAD_LETTER_SQL =
            "INSERT INTO dead_letters (ts_ms, user_id, kind, reason) VALUES (?, ?, ?, ?)";
    private static final int COPY_CHUNK_BYTES = 1 << 16;
    /** After the unique index refused a resend, how many batches ask first. */
    private static final int CAREFUL_BATCHES = 100;
    /** How often one write goes round when concurrent writers keep storing the same keys first. */
    private static final int MAX_KEY_CONFLICTS = 3;

    private final DataSource dataSource;
    private final BinaryCopyEncoder encoder = new BinaryCopyEncoder();
    private final CommittedUsers committedUsers;
    private final Resends resends = new Resends();
    private final RetentionKeeper.Retention retention;
    private final LongSupplier millisClock;
    private final MissingDays missingDays;
    private final HourlySketches sketches;
    private final RecentHours recentHours;
    private int carefulBatchesLeft;

    /**
     * {@code userCachePairs} bounds the in-process memory of committed (hour, user) pairs (0 turns it off); event ids
     * are remembered, and days kept, as {@code retention} says; {@code millisClock} decides what "now" is for
     * all three.
     */
    public CopyBatchSink(DataSource dataSource, long userCachePairs, RetentionKeeper.Retention retention,
                         LongSupplier millisClock) {
        this(dataSource, userCachePairs, retention, millisClock, true);
    }

    /** As above; without {@code keepSketches} no {@code hourly_sketches} rows are written (a benchmark's baseline). */
    public CopyBatchSink(DataSource dataSource, long userCachePairs, RetentionKeeper.Retention retention,
                         LongSupplier millisClock, boolean keepSketches) {
        this(dataSource, userCachePairs, retention, millisClock, keepSketches, null);
    }

    /** As above, telling {@code recentHours} (unless null) what each COMMIT left in the hours it wrote. */
    public CopyBatchSink(DataSource dataSource, long userCachePairs, RetentionKeeper.Retention retention,
                         LongSupplier millisClock, boolean keepSketches, RecentHours recentHours) {
        this.recentHours = recentHours;
        this.sketches = keepSketches ? new HourlySketches() : null;
        this.dataSource = dataSource;
        this.committedUsers = new CommittedUsers(userCachePairs, millisClock);
        this.retention = retention;
        this.millisClock = millisClock;
        this.missingDays = new MissingDays(retention, millisClock);
    }

    @Override
    public WriteOutcome write(EventBatch batch) throws Exception {
        try (Connection connection = dataSource.getConnection()) {
            missingDays.create(connection, batch);
            for (int conflicts = 0; ; conflicts++) {
                Attempt attempt = new Attempt();
                try {
                    connection.setAutoCommit(false);
                    return transaction(connection, batch, attempt, conflicts > 0 || carefulBatchesLeft > 0);
                } catch (SQLException e) {
                    rollbackQuietly(connection);
                    if (isKeyConflict(e) && !attempt.commitSent && conflicts < MAX_KEY_CONFLICTS) {
                        carefulBatchesLeft = CAREFUL_BATCHES; // a resend the index refused: ask first from now on
                        continue;
                    }
                    throw failure(e, attempt.claimed, attempt.commitSent ? WriteOutcome.withResends(
                            attempt.keys.resends) : null);
                } finally {
                    carefulBatchesLeft = Math.max(0, carefulBatchesLeft - 1);
                }
            }
        } catch (SQLException e) {
            throw failure(e, false, null); // no connection, or no partition could be made
        }
    }

    /** What one attempt got as far as, for what its failure means. */
    private static final class Attempt {
        boolean claimed;
        boolean commitSent;
        Resends.Keys keys = new Resends.Keys(0);
    }

    /** One attempt at the batch's transaction; {@code careful}: ask which keys are stored before the COPY. */
    private WriteOutcome transaction(Connection connection, EventBatch batch, Attempt attempt, boolean careful)
            throws SQLException {
        if (!claim(connection, batch.id())) {
            connection.rollback();
            if (recentHours != null) {
                // That COMMIT was never told to RecentHours: its hours are read again before they answer a GET.
                Set<Long> hours = new HashSet<>();
                for (int i = 0; i < batch.size(); i++) {
                    hours.add(Hours.startMs(batch.timestampMs(i)));
                }
                hours.forEach(recentHours::unread);
            }
            return WriteOutcome.ALREADY_COMMITTED; // an earlier attempt committed, only its reply was lost
        }
        // Claimed: no earlier attempt committed, and none can any more (its claim would have blocked ours).
        attempt.claimed = true;
        long nowMs = millisClock.getAsLong();
        long rememberedAfterMs = RetentionKeeper.eventIdsRememberedAfterMs(nowMs, retention.eventIdHours());
        attempt.keys = resends.keysOf(connection, batch, rememberedAfterMs);
        List<RequestKey> newRequests = RequestKeys.settle(connection, batch, attempt.keys.resends, rememberedAfterMs);
        if (careful) {
            resends.findStored(connection, batch, attempt.keys);
        }
        HourlyDeltas deltas = copyAndCount(connection, batch, attempt.keys);
        Map<Long, Long> newUsers = deltas.insertUsers(connection);
        if (sketches != null) {
            sketches.write(connection, deltas.usersByHour);
        }
        RequestKeys.record(connection, batch, newRequests, attempt.keys.resends, nowMs);
        // Last: the current hour's row is the one lock every writer takes.
        Map<Long, HourlyCounts> after = deltas.upsertStats(connection, newUsers);
        attempt.commitSent = true;
        connection.commit();
        committedUsers.addAll(deltas.usersByHour);
        if (sketches != null) {
            sketches.onCommitted();
        }
        if (recentHours != null) {
            after.forEach((hourMs, counts) -> recentHours.committed(hourMs, counts, newUsers.getOrDefault(hourMs, 0L),
                    sketches != null ? sketches.committed(hourMs) : null));
        }
        return WriteOutcome.withResends(attempt.keys.resends);
    }

    /**
     * The unique index on (ts, event_key) refused a row: a resend stored meanwhile, not a bad event. PostgreSQL says so
     * with SQLSTATE 23505 and the constraint's name; Citus, when a shard refuses a COPYed row, passes the shard's
     * message on as an internal error (XX000, no constraint field), so there the message names the shard's index.
     */
    static boolean isKeyConflict(SQLException e) {
        if (!(e instanceof PSQLException psql) || psql.getServerErrorMessage() == null) {
            return false;
        }
        String constraint = psql.getServerErrorMessage().getConstraint();
        if ("23505".equals(e.getSQLState())) {
            return constraint != null && constraint.contains("event_key");
        }
        String message = String.valueOf(psql.getServerErrorMessage().getMessage());
        return "XX000".equals(e.getSQLState()) && message.startsWith("duplicate key value violates unique constraint")
                && message.contains("event_key");
    }

    static void rollbackQuietly(Connection connection) {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // the connection is gone; the pool replaces it
        }
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
     * Keyed events go first, by timestamp then key: every writer takes the unique index's locks in the same order.
     */
    private HourlyDeltas copyAndCount(Connection connection, EventBatch batch, Resends.Keys keys) throws SQLException {
        CopyIn copyIn = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(BinaryCopyEncoder.COPY_SQL);
        try {
            HourlyDeltas deltas = new HourlyDeltas();
            encoder.start();
            for (int i : keyedInIndexOrder(batch, keys)) {
                copyRow(copyIn, deltas, batch, i, true, keys.keys[i]);
            }
            for (int i = 0; i < batch.size(); i++) {
                if (!keys.keyed.get(i) && !keys.resends.get(i)) { // a resend without an id: its request's key
                    copyRow(copyIn, deltas, batch, i, false, 0);
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

    /** The keyed events that are not resends, by timestamp then key. */
    private static int[] keyedInIndexOrder(EventBatch batch, Resends.Keys keys) {
        return keys.keyed.stream().filter(i -> !keys.resends.get(i)).boxed()
                .sorted((a, b) -> {
                    int byTime = Long.compare(batch.timestampMs(a), batch.timestampMs(b));
                    return byTime != 0 ? byTime : Long.compare(keys.keys[a], keys.keys[b]);
                }).mapToInt(Integer::intValue).toArray();
    }

    private void copyRow(CopyIn copyIn, HourlyDeltas deltas, EventBatch batch, int i, boolean keyed, long key)
            throws SQLException {
        deltas.add(batch, i, committedUsers);
        encoder.row(batch, i, keyed, key);
        if (encoder.length() >= COPY_CHUNK_BYTES) {
            copyIn.writeToCopy(encoder.buffer(), 0, encoder.length());
            encoder.clear();
        }
    }
}
