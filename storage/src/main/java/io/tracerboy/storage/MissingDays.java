package io.tracerboy.storage;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.Hours;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The writer's side of the day partitions: before a batch's transaction, the days its events fall in get their
 * partitions of {@code events} and {@code hourly_users} (and today its {@code request_keys} one) if the retention
 * thread has not made them yet — a late event after a quiet spell, or a restart past midnight. Usually one read finds
 * them; days known to exist are remembered. Writer thread only.
 */
final class MissingDays {
    private final RetentionKeeper.Retention retention;
    private final LongSupplier millisClock;
    private final Set<Long> daysCovered = new HashSet<>();
    private TimePartitions partitions;
    private long requestKeysDayMs = Long.MIN_VALUE;

    MissingDays(RetentionKeeper.Retention retention, LongSupplier millisClock) {
        this.retention = retention;
        this.millisClock = millisClock;
    }

    /**
     * Creates the day partitions the batch's events fall in and that are not known to exist, unless the day is past
     * retention (its events then fail the COPY for want of a partition, and are dead-lettered). Each in a transaction
     * of its own, before the batch's: writers never wait for it inside theirs.
     */
    void create(Connection connection, EventBatch batch) throws SQLException {
        createRequestKeysDay(connection, batch);
        long lastDayMs = Long.MIN_VALUE;
        for (int i = 0; i < batch.size(); i++) {
            long dayMs = TimePartitions.dayStartMs(batch.timestampMs(i));
            if (dayMs == lastDayMs || daysCovered.contains(dayMs)) {
                continue;
            }
            lastDayMs = dayMs;
            if (partitions == null) {
                partitions = TimePartitions.forEngine(StorageEngine.inUse(connection));
            }
            long nowMs = millisClock.getAsLong();
            boolean events = !pastRetention(dayMs, nowMs, retention.eventHours());
            boolean users = !pastRetention(dayMs, nowMs, retention.userHours());
            // Usually a read finds them (the keeper creates days ahead): no transaction, nothing to commit.
            connection.setAutoCommit(true);
            if ((!events || partitions.covers(connection, "events", dayMs))
                    && (!users || partitions.covers(connection, "hourly_users", dayMs))) {
                daysCovered.add(dayMs);
                continue;
            }
            connection.setAutoCommit(false);
            try {
                if (events) {
                    partitions.createDay(connection, "events", dayMs);
                }
                if (users) {
                    partitions.createDay(connection, "hourly_users", dayMs);
                }
                connection.commit();
            } catch (SQLException e) {
                CopyBatchSink.rollbackQuietly(connection);
                throw e;
            }
            daysCovered.add(dayMs);
        }
    }

    /** A batch with keyed requests records them today: makes sure today has its {@code request_keys} partition. */
    private void createRequestKeysDay(Connection connection, EventBatch batch) throws SQLException {
        long todayMs = TimePartitions.dayStartMs(millisClock.getAsLong());
        if (todayMs == requestKeysDayMs) {
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            if (batch.request(i) != null) {
                TimePartitions requestKeys = TimePartitions.declarative();
                connection.setAutoCommit(true);
                if (!requestKeys.covers(connection, "request_keys", todayMs)) {
                    connection.setAutoCommit(false);
                    try {
                        requestKeys.createDay(connection, "request_keys", todayMs);
                        connection.commit();
                    } catch (SQLException e) {
                        CopyBatchSink.rollbackQuietly(connection);
                        throw e;
                    }
                }
                requestKeysDayMs = todayMs;
                return;
            }
        }
    }

    private static boolean pastRetention(long dayStartMs, long nowMs, int retentionHours) {
        return dayStartMs + TimePartitions.DAY_MS <= nowMs - retentionHours * Hours.HOUR_MS - RetentionKeeper.GRACE_MS;
    }
}
